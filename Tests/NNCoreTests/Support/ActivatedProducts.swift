// A matrix product with an activation applied to C or an activation's derivative C is
// multiplied by, its operands, and its expected result straight from the definition in Double:
// shared by the small-product and panel-product suites, which check different loops against the
// same definition.

@testable import NNCore
import NNKernels
import Testing

/// A product case, with an activation applied to C (`Gemm.epilogue`) or C ⊙= f′(y) for an
/// activation output y with exact zeros (`Gemm.derivative`, a layer's input gradient).
struct ActivatedProductCase: CustomTestStringConvertible, Sendable {
    var product: ParallelProductTests.Case
    var activation: Activation?
    var derivative: Activation?

    init(_ transA: Bool, _ transB: Bool, m: Int, n: Int, k: Int, beta: Float = 0, bias: Bool = false,
         activation: Activation? = nil, derivative: Activation? = nil) {
        product = .init(transA: transA, transB: transB, m: m, n: n, k: k, beta: beta, bias: bias)
        self.activation = activation
        self.derivative = derivative
    }

    var testDescription: String {
        "\(product.testDescription)\(activation.map { " \($0)" } ?? "")\(derivative.map { " ⊙ \($0)′" } ?? "")"
    }
}

/// A case's operands, drawn from five consecutive seeds (A, B, C's start, bias, the activation
/// output y), and its expected C in Double.
struct ActivatedProductCheck {
    let test: ActivatedProductCase
    let a: [Float], b: [Float], c0: [Float], bias: [Float], y: [Float]
    let expected: [Double]

    init(_ test: ActivatedProductCase, seed: UInt64) {
        self.test = test
        let c = test.product
        a = ParallelProductTests.random(c.m * c.k, seed: seed)
        b = ParallelProductTests.random(c.k * c.n, seed: seed + 1)
        bias = ParallelProductTests.random(c.n, seed: seed + 3)
        // With β = 0 and no bias, C starts as NaN: a loop that read it would spread NaN.
        let overwrites = c.beta == 0 || c.bias
        c0 = overwrites ? [Float](repeating: .nan, count: c.m * c.n) : ParallelProductTests.random(c.m * c.n, seed: seed + 2)
        // An activation's output, about half of it exactly 0.
        let y = ParallelProductTests.random(c.m * c.n, seed: seed + 4).map { max(0, $0) }
        self.y = y
        var expected = ParallelProductTests.reference(c, a: a, b: b, c0: overwrites ? [Float](repeating: 0, count: c0.count) : c0,
                                                      bias: bias)
            .map { x in test.activation.map { Ref.activation($0, x) } ?? x }
        if let f = test.derivative {
            let slope = if case .leakyReLU(let alpha) = f { Double(alpha) } else { 0.0 }
            for i in expected.indices where y[i] <= 0 { expected[i] *= slope }
        }
        self.expected = expected
    }

    /// Hands `body` the case's product, its activation and derivative set, and returns C.
    func run(_ body: (Gemm) -> Void) -> [Float] {
        let c = test.product
        return y.withUnsafeBufferPointer { yp in
            ParallelProductTests.withProduct(c, a: a, b: b, c0: c0, bias: bias) {
                var product = $0
                product.epilogue = test.activation
                product.derivative = test.derivative.map {
                    SmallProduct.Derivative(output: yp.baseAddress!, ld: c.n, activation: ActivationKernel.registerActivation($0)!)
                }
                body(product)
            }
        }
    }

    /// Expects every element of `out` to be finite, and returns the largest error relative to
    /// 1 + |expected|.
    func worstRelativeError(_ out: [Float]) -> Double {
        var worst = 0.0
        for i in expected.indices {
            #expect(out[i].isFinite, "element \(i) is \(out[i])")
            worst = max(worst, abs(Double(out[i]) - expected[i]) / (1 + abs(expected[i])))
        }
        return worst
    }
}
