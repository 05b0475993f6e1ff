/// A learning-rate schedule: the rate of epoch e (0-based, counted over the model's whole
/// training life) is `learningRate × factor(epoch: e)`.
public indirect enum Schedule: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The same rate every epoch.
    case constant
    /// Multiply the rate by `factor` once each milestone is reached: with milestones
    /// [30, 60, 90] and factor 0.1 (the lecture's step decay), epochs 0–29 use the base rate,
    /// 30–59 a tenth of it, 60–89 a hundredth, and from 90 on a thousandth.
    case stepDecay(milestones: [Int], factor: Float)
    /// rate × γ^e.
    case exponential(gamma: Float)
    /// Cosine annealing from the base rate down to base × `minimumFactor` over `period` epochs,
    /// then flat.
    case cosine(period: Int, minimumFactor: Float = 0)
    /// Linear warm-up from base/`epochs` to base over the first `epochs` epochs, then `then`
    /// (evaluated at the same absolute epoch, so its milestones keep their meaning). `then`
    /// cannot itself be a warm-up.
    case warmup(epochs: Int, then: Schedule)

    /// The multiplier of the base rate at `epoch` (0-based).
    public func factor(epoch: Int) -> Float {
        switch self {
        case .constant:
            return 1
        case .stepDecay(let milestones, let factor):
            let passed = milestones.reduce(0) { $0 + (epoch >= $1 ? 1 : 0) }
            return Float(_powDouble(Double(factor), passed))
        case .exponential(let gamma):
            return Float(_powDouble(Double(gamma), epoch))
        case .cosine(let period, let minimum):
            let progress = Double(min(epoch, period)) / Double(max(period, 1))
            return minimum + (1 - minimum) * Float(0.5 * (1 + _cos(Double.pi * progress)))
        case .warmup(let epochs, let then):
            let inner = then.factor(epoch: epoch)
            return epoch < epochs ? inner * Float(epoch + 1) / Float(epochs) : inner
        }
    }

    public var description: String {
        switch self {
        case .constant: return "constant"
        case .stepDecay(let milestones, let factor):
            return "step:\(milestones.map(String.init).joined(separator: ",")):\(factor)"
        case .exponential(let gamma): return "exponential:\(gamma)"
        case .cosine(let period, let minimum): return "cosine:\(period):\(minimum)"
        case .warmup(let epochs, let then): return "warmup:\(epochs):\(then)"
        }
    }

    /// Parses the form `description` prints: "constant", "step:30,60,90:0.1",
    /// "exponential:0.95", "cosine:100[:0.01]", "warmup:5:step:30,60:0.1".
    /// - Throws: `.invalidArgument` for text it cannot read.
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        func bad() -> NNError {
            NNError.invalidArgument("cannot read schedule '\(text)'; forms: constant, step:30,60,90:0.1, exponential:0.95, cosine:100[:0.01], warmup:5:<schedule>")
        }
        switch parts[0].lowercased() {
        case "constant" where parts.count == 1:
            self = .constant
        case "step" where parts.count == 3:
            let milestones = parts[1].split(separator: ",").compactMap { Int($0) }
            guard milestones.count == parts[1].split(separator: ",").count, let factor = Float(parts[2]) else { throw bad() }
            self = .stepDecay(milestones: milestones, factor: factor)
        case "exponential" where parts.count == 2:
            guard let gamma = Float(parts[1]) else { throw bad() }
            self = .exponential(gamma: gamma)
        case "cosine" where parts.count == 2 || parts.count == 3:
            guard let period = Int(parts[1]) else { throw bad() }
            let minimum = parts.count == 3 ? Float(parts[2]) : 0
            guard let minimum else { throw bad() }
            self = .cosine(period: period, minimumFactor: minimum)
        case "warmup" where parts.count >= 3:
            guard let epochs = Int(parts[1]) else { throw bad() }
            self = .warmup(epochs: epochs, then: try Schedule(parsing: parts[2...].joined(separator: ":")))
        default:
            throw bad()
        }
        try validate()
    }

    func validate() throws {
        switch self {
        case .constant: break
        case .stepDecay(let milestones, let factor):
            guard factor.isFinite, factor > 0 else { throw NNError.badHyperparameter("step decay factor must be positive, got \(factor)") }
            guard milestones.allSatisfy({ $0 >= 0 }) else { throw NNError.badHyperparameter("step decay milestones must be ≥ 0, got \(milestones)") }
        case .exponential(let gamma):
            guard gamma.isFinite, gamma > 0 else { throw NNError.badHyperparameter("exponential γ must be positive, got \(gamma)") }
        case .cosine(let period, let minimum):
            guard period >= 1 else { throw NNError.badHyperparameter("cosine period must be ≥ 1 epoch, got \(period)") }
            guard minimum.isFinite, minimum >= 0, minimum <= 1 else { throw NNError.badHyperparameter("cosine minimum factor must be in [0, 1], got \(minimum)") }
        case .warmup(let epochs, let then):
            guard epochs >= 1 else { throw NNError.badHyperparameter("warm-up must last ≥ 1 epoch, got \(epochs)") }
            if case .warmup = then { throw NNError.badHyperparameter("a warm-up cannot wrap another warm-up") }
            try then.validate()
        }
    }
}
