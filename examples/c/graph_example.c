/* The lecture's computational-graph example through the C API: f(x, y, z) = (x + y) * z at
 * x = -2, y = 5, z = -4 gives f = -12 and df/dx = -4, df/dy = -4, df/dz = 3. */
#include <nncore.h>
#include <stdio.h>

#define CHECK(call)                                                                    \
    do {                                                                               \
        nn_status status_ = (call);                                                    \
        if (status_ != NN_OK) {                                                        \
            fprintf(stderr, "%s failed: %s: %s\n", #call, nn_status_string(status_),   \
                    nn_last_error_message());                                          \
            return 1;                                                                  \
        }                                                                              \
    } while (0)

int main(void) {
    nn_graph *graph = NULL;
    int32_t x, y, z, q, f;
    const float xv = -2.0f, yv = 5.0f, zv = -4.0f;
    float value = 0, dx = 0, dy = 0, dz = 0;
    size_t count = 0;

    CHECK(nn_graph_create(1, 0, &graph));
    CHECK(nn_graph_input(graph, "x", 1, 1, &x));
    CHECK(nn_graph_input(graph, "y", 1, 1, &y));
    CHECK(nn_graph_input(graph, "z", 1, 1, &z));
    CHECK(nn_graph_set_value(graph, x, &xv, 1));
    CHECK(nn_graph_set_value(graph, y, &yv, 1));
    CHECK(nn_graph_set_value(graph, z, &zv, 1));
    {
        const int32_t sum_inputs[2] = {x, y};
        CHECK(nn_graph_op(graph, NN_OP_ADD, sum_inputs, 2, 0.0f, &q));
    }
    {
        const int32_t product_inputs[2] = {q, z};
        CHECK(nn_graph_op(graph, NN_OP_MUL, product_inputs, 2, 0.0f, &f));
    }
    CHECK(nn_graph_forward(graph));
    CHECK(nn_graph_backward(graph, f));
    CHECK(nn_graph_value(graph, f, &value, 1, &count));
    CHECK(nn_graph_gradient(graph, x, &dx, 1, &count));
    CHECK(nn_graph_gradient(graph, y, &dy, 1, &count));
    CHECK(nn_graph_gradient(graph, z, &dz, 1, &count));
    printf("f = %g, df/dx = %g, df/dy = %g, df/dz = %g\n", value, dx, dy, dz);
    nn_graph_free(graph);
    return (value == -12.0f && dx == -4.0f && dy == -4.0f && dz == 3.0f) ? 0 : 1;
}
