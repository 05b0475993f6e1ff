/* Linked into the ThreadSanitizer build of the C test suite only (make sanitize): never into the
 * library, the examples or a user's program. x86-64 Linux, Swift 6.3's Synchronization module.
 *
 * WHY. nncore's Swift code locks with Synchronization.Mutex (the handle table, the pool of
 * inference graphs). Its uncontended lock and unlock are atomic compare-exchanges inlined into
 * nncore, which TSan instruments and understands. Under contention the Mutex calls out to
 * _MutexHandle._lockSlow / _tryLockSlow / _unlockSlow in the Swift runtime's
 * libswiftSynchronization.so, which is not instrumented: _lockSlow spins on a plain `lock cmpxchg`
 * and then waits in the kernel (syscall(SYS_futex, FUTEX_LOCK_PI)), _unlockSlow hands the lock over
 * with FUTEX_UNLOCK_PI. TSan sees none of it, so it never learns that the lock passed from one
 * thread to the next and reports the accesses every contended critical section makes as races:
 * false positives caused by third-party code. Proof: this obviously race-free Swift program gets
 * "ThreadSanitizer: Swift access race" reports when built with `swiftc -sanitize=thread`:
 *
 *     import Synchronization; import Glibc
 *     let table = Mutex<[Int]>([])
 *     func worker(_: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
 *         for i in 0 ..< 20_000 { table.withLock { $0.append(i); if $0.count > 100 { $0.removeAll() } } }
 *         return nil
 *     }
 *     var threads = [pthread_t](repeating: pthread_t(), count: 4)
 *     for i in 0 ..< 4 { pthread_create(&threads[i], nil, worker, nil) }
 *     for i in 0 ..< 4 { pthread_join(threads[i], nil) }
 *
 * and none once linked with this file.
 *
 * WHAT. This file defines the three slow-path symbols in the test executable, which the dynamic
 * linker prefers to the runtime's own (nncore calls them through its PLT). Each wrapper calls the
 * real function (found with dlsym(RTLD_NEXT)) and tells TSan what it did, exactly as TSan's own
 * interceptors model pthread_mutex_lock/unlock: after _lockSlow, and after a successful
 * _tryLockSlow, the lock word is acquired; before _unlockSlow it is released. The lock word is
 * `self` (the Mutex's Atomic<UInt32>), which the Swift calling convention passes in r13; the
 * inlined fast paths use the same address, so both paths meet in one TSan sync object. Only the
 * happens-before edges the lock really creates are added: no race is hidden, and no suppression
 * is needed. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#define LOCK_SLOW "$s15Synchronization12_MutexHandleV9_lockSlowyys6UInt32VF"
#define TRY_LOCK_SLOW "$s15Synchronization12_MutexHandleV12_tryLockSlowSbyF"
#define UNLOCK_SLOW "$s15Synchronization12_MutexHandleV11_unlockSlowyyF"

void __tsan_acquire(void *address);
void __tsan_release(void *address);

/* The real functions; called only from the assembly below, so never called from C. */
void *nncore_real_lock_slow, *nncore_real_try_lock_slow, *nncore_real_unlock_slow;

void nncore_resolve_mutex_slow_paths(void);
void nncore_resolve_mutex_slow_paths(void) {
    nncore_real_lock_slow = dlsym(RTLD_NEXT, LOCK_SLOW);
    nncore_real_try_lock_slow = dlsym(RTLD_NEXT, TRY_LOCK_SLOW);
    nncore_real_unlock_slow = dlsym(RTLD_NEXT, UNLOCK_SLOW);
    if (nncore_real_lock_slow == NULL || nncore_real_try_lock_slow == NULL || nncore_real_unlock_slow == NULL) {
        fprintf(stderr, "tsan_swift_mutex.c: the Swift runtime's Mutex slow paths were not found; update this file\n");
        abort();
    }
}

__attribute__((constructor)) static void resolve_at_start(void) { nncore_resolve_mutex_slow_paths(); }

/* On entry rsp = 8 (mod 16); every call below is made with rsp = 0 (mod 16). */
__asm__(
    "  .text\n"
    /* _lockSlow(self: r13, selfId: edi) */
    "  .globl \"" LOCK_SLOW "\"\n"
    "  .type \"" LOCK_SLOW "\", @function\n"
    "\"" LOCK_SLOW "\":\n"
    "  pushq %r13\n"
    "  pushq %rdi\n"
    "  subq $8, %rsp\n"
    "  cmpq $0, nncore_real_lock_slow(%rip)\n"
    "  jne 1f\n"
    "  call nncore_resolve_mutex_slow_paths\n"
    "1:\n"
    "  movq 8(%rsp), %rdi\n"
    "  movq 16(%rsp), %r13\n"
    "  call *nncore_real_lock_slow(%rip)\n"
    "  movq 16(%rsp), %rdi\n"
    "  call __tsan_acquire\n"
    "  addq $16, %rsp\n"
    "  popq %r13\n"
    "  ret\n"
    "  .size \"" LOCK_SLOW "\", . - \"" LOCK_SLOW "\"\n"
    /* _tryLockSlow(self: r13) -> Bool in al */
    "  .globl \"" TRY_LOCK_SLOW "\"\n"
    "  .type \"" TRY_LOCK_SLOW "\", @function\n"
    "\"" TRY_LOCK_SLOW "\":\n"
    "  pushq %r13\n"
    "  cmpq $0, nncore_real_try_lock_slow(%rip)\n"
    "  jne 1f\n"
    "  call nncore_resolve_mutex_slow_paths\n"
    "1:\n"
    "  movq (%rsp), %r13\n"
    "  call *nncore_real_try_lock_slow(%rip)\n"
    "  testb %al, %al\n"
    "  jz 2f\n"
    "  pushq %rax\n"
    "  subq $8, %rsp\n"
    "  movq 16(%rsp), %rdi\n"
    "  call __tsan_acquire\n"
    "  addq $8, %rsp\n"
    "  popq %rax\n"
    "2:\n"
    "  popq %r13\n"
    "  ret\n"
    "  .size \"" TRY_LOCK_SLOW "\", . - \"" TRY_LOCK_SLOW "\"\n"
    /* _unlockSlow(self: r13) */
    "  .globl \"" UNLOCK_SLOW "\"\n"
    "  .type \"" UNLOCK_SLOW "\", @function\n"
    "\"" UNLOCK_SLOW "\":\n"
    "  pushq %r13\n"
    "  cmpq $0, nncore_real_unlock_slow(%rip)\n"
    "  jne 1f\n"
    "  call nncore_resolve_mutex_slow_paths\n"
    "1:\n"
    "  movq (%rsp), %rdi\n"
    "  call __tsan_release\n"
    "  popq %r13\n"
    "  jmp *nncore_real_unlock_slow(%rip)\n"
    "  .size \"" UNLOCK_SLOW "\", . - \"" UNLOCK_SLOW "\"\n");
