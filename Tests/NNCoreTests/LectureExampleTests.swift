import Testing
import NNCore

/// The lecture's worked example: f(x, y, z) = (x + y)·z at x = −2, y = 5, z = −4.
@Suite struct LectureExampleTests {
    @Test func forwardAndBackwardGiveTheLectureNumbers() throws {
        let g = Graph()
        let x = g.scalar("x", -2), y = g.scalar("y", 5), z = g.scalar("z", -4)
        let q = try x + y
        let f = try q * z
        try g.forward()
        try g.backward(from: f)
        #expect(g.value(q) == [3])
        #expect(g.value(f) == [-12])
        #expect(g.gradient(x) == [-4])
        #expect(g.gradient(y) == [-4])
        #expect(g.gradient(z) == [3])
        #expect(g.gradient(q) == [-4])
    }

    @Test func aValueUsedTwiceAccumulatesBothGradients() throws {
        // f = x·x + x at x = 3: df/dx = 2x + 1 = 7.
        let g = Graph()
        let x = g.scalar("x", 3)
        let f = try (x * x) + x
        try g.forward()
        try g.backward(from: f)
        #expect(g.value(f) == [12])
        #expect(g.gradient(x) == [7])
    }
}
