/* A minimal test framework for the C test suite of nncore's C ABI (Tests/C/test_capi.c).
 *
 * A test case is a function; it passes when every CHECK/EXPECT in it holds. EXPECT(call, status)
 * also checks nn_last_error_message(): never NULL, empty after success, non-empty after failure
 * (read right after the call, before any other nncore call). Only the main thread records
 * results; worker threads hand theirs back to it. */
#ifndef NNCORE_TEST_SUPPORT_H
#define NNCORE_TEST_SUPPORT_H

#include <nncore.h>
#include <stdio.h>
#include <string.h>

#define STATUS_CODES 21 /* NN_OK ... NN_ERR_INTERNAL */

static int case_failures;      /* failed checks in the current case */
static long checks_run;        /* checks over the whole run */
static const char *current_case = "";
static int status_seen[STATUS_CODES]; /* which codes an EXPECT has observed as expected */

static void report_failure(const char *file, int line, const char *what, const char *detail) {
    case_failures++;
    fprintf(stderr, "    FAILED %s:%d [%s]: %s%s%s\n", file, line, current_case, what, detail[0] ? ": " : "", detail);
}

static int check_condition(int ok, const char *what, const char *file, int line) {
    checks_run++;
    if (!ok) report_failure(file, line, what, "");
    return ok;
}

static int expect_status(nn_status got, nn_status expected, const char *call, const char *file, int line) {
    const char *message = nn_last_error_message();
    char detail[1024];
    checks_run++;
    if (message == NULL) {
        report_failure(file, line, call, "nn_last_error_message() returned NULL");
        return 0;
    }
    if (got != expected) {
        snprintf(detail, sizeof detail, "expected %s (%d), got %s (%d) \"%s\"", nn_status_string(expected),
                 (int)expected, nn_status_string(got), (int)got, message);
        report_failure(file, line, call, detail);
        return 0;
    }
    if (expected == NN_OK && message[0] != '\0') {
        snprintf(detail, sizeof detail, "succeeded but the last error message is \"%s\"", message);
        report_failure(file, line, call, detail);
        return 0;
    }
    if (expected != NN_OK && message[0] == '\0') {
        report_failure(file, line, call, "failed with an empty error message");
        return 0;
    }
    if (expected >= 0 && expected < STATUS_CODES) status_seen[expected] = 1;
    return 1;
}

#define CHECK(condition) check_condition((condition) ? 1 : 0, #condition, __FILE__, __LINE__)
#define EXPECT(call, status) expect_status((call), (status), #call, __FILE__, __LINE__)
#define OK(call) EXPECT(call, NN_OK)

/* Fails the check unless the last error message contains `text` (call right after an EXPECT). */
#define EXPECT_MESSAGE(text)                                                                       \
    check_condition(strstr(nn_last_error_message(), (text)) != NULL, "message contains \"" text "\"", \
                    __FILE__, __LINE__)

typedef void (*test_function)(void);
typedef struct {
    const char *name;
    test_function run;
} test_case;

/* Runs every case and prints "N passed, N failed" alone on the last line; returns the exit code. */
static int run_tests(const test_case *cases, size_t count) {
    size_t i;
    int passed = 0, failed = 0;
    for (i = 0; i < count; i++) {
        current_case = cases[i].name;
        case_failures = 0;
        cases[i].run();
        if (case_failures == 0) {
            passed++;
            printf("ok    %s\n", cases[i].name);
        } else {
            failed++;
            printf("FAIL  %s (%d checks failed)\n", cases[i].name, case_failures);
        }
        fflush(stdout);
    }
    printf("%ld checks in %d test cases\n", checks_run, passed + failed);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

#endif /* NNCORE_TEST_SUPPORT_H */
