/// Everything `Model.fit` needs to know besides the data. Every field has a default.
public struct TrainingOptions: Equatable, Sendable {
    /// Passes over the training data (≥ 1).
    public var epochs: Int = 10
    /// Samples per step; 0 (or any number ≥ the sample count) means full batch.
    public var batchSize: Int = 32
    /// The update rule.
    public var optimizer: Optimizer = .sgd
    /// The base learning rate η (> 0).
    public var learningRate: Float = 0.01
    /// How η changes with the epoch.
    public var schedule: Schedule = .constant
    /// λ₂ of the L2 penalty λ₂·ΣW² over weights (not biases).
    public var l2: Float = 0
    /// λ₁ of the L1 penalty λ₁·Σ|W| over weights (not biases).
    public var l1: Float = 0
    /// When set, gradients are rescaled so that their global L2 norm is at most this.
    public var gradientClipNorm: Float? = nil
    /// When no validation set is given, this share of the data (in (0, 1)) is held out, drawn
    /// with a fixed seed derived from the model's seed, so every call holds out the same rows.
    public var validationFraction: Float = 0
    /// Early stopping: stop after this many epochs without improvement of the monitored loss
    /// (validation loss when there is validation data, training loss otherwise) and restore
    /// the best epoch's weights. nil turns it off.
    public var earlyStoppingPatience: Int? = nil
    /// The least decrease that counts as an improvement.
    public var earlyStoppingMinDelta: Float = 0
    /// Shuffle the training rows each epoch (with the model's generator).
    public var shuffle: Bool = true
    /// Fit the input standardisation (mean/std per feature) from the training rows before the
    /// first epoch, unless the model already has one. It is kept with the model and applied on
    /// prediction.
    public var standardize: Bool = false

    /// The defaults.
    public init() {}

    /// Checks every value. - Throws: `.badHyperparameter` naming the first one out of range.
    public func validate() throws {
        func check(_ ok: Bool, _ message: @autoclosure () -> String) throws {
            if !ok { throw NNError.badHyperparameter(message()) }
        }
        try check(epochs >= 1, "epochs must be ≥ 1, got \(epochs)")
        try check(batchSize >= 0, "batch size must be ≥ 0 (0 = full batch), got \(batchSize)")
        try check(learningRate.isFinite && learningRate > 0, "learning rate must be positive, got \(learningRate)")
        try check(l2.isFinite && l2 >= 0, "l2 must be ≥ 0, got \(l2)")
        try check(l1.isFinite && l1 >= 0, "l1 must be ≥ 0, got \(l1)")
        if let clip = gradientClipNorm { try check(clip.isFinite && clip > 0, "gradient clip norm must be positive, got \(clip)") }
        try check(validationFraction.isFinite && validationFraction >= 0 && validationFraction < 1,
                  "validation fraction must be in [0, 1), got \(validationFraction)")
        if let patience = earlyStoppingPatience { try check(patience >= 1, "early-stopping patience must be ≥ 1, got \(patience)") }
        try check(earlyStoppingMinDelta.isFinite && earlyStoppingMinDelta >= 0, "early-stopping min delta must be ≥ 0, got \(earlyStoppingMinDelta)")
        try optimizer.validate()
        try schedule.validate()
    }
}

/// What a progress closure tells `fit` after each epoch.
public enum TrainingControl: Sendable {
    /// Go on training.
    case `continue`
    /// Stop now; the model keeps the weights of the epoch just finished.
    case stop
}

/// Statistics of one epoch.
public struct EpochStats: Equatable, Sendable {
    /// The epoch's number over the model's life, from 1.
    public var epoch: Int
    /// The mean data loss over the epoch's steps (weighted by the samples in each).
    public var dataLoss: Float
    /// The mean regularisation loss λ₂ΣW² + λ₁Σ|W| over the epoch's steps.
    public var regularizationLoss: Float
    /// The full loss: data loss + regularisation loss.
    public var loss: Float { dataLoss + regularizationLoss }
    /// Training accuracy over the epoch's steps (classifiers; measured during the steps, with
    /// dropout active, as Keras reports it); nil for regression.
    public var accuracy: Float?
    /// Data loss on the validation data, if any.
    public var validationLoss: Float?
    /// Accuracy on the validation data (classifiers with validation data).
    public var validationAccuracy: Float?
    /// The learning rate used in this epoch.
    public var learningRate: Float
    /// Wall-clock seconds the epoch took (validation included).
    public var seconds: Double

    public init(epoch: Int, dataLoss: Float, regularizationLoss: Float, accuracy: Float?, validationLoss: Float?,
                validationAccuracy: Float?, learningRate: Float, seconds: Double) {
        self.epoch = epoch
        self.dataLoss = dataLoss
        self.regularizationLoss = regularizationLoss
        self.accuracy = accuracy
        self.validationLoss = validationLoss
        self.validationAccuracy = validationAccuracy
        self.learningRate = learningRate
        self.seconds = seconds
    }
}

/// The outcome of one `fit` call.
public struct TrainingSummary: Equatable, Sendable {
    /// Why training ended.
    public enum StopReason: Equatable, Sendable {
        /// All requested epochs ran.
        case completed
        /// Early stopping ran out of patience; the best epoch's weights were restored.
        case earlyStopped
        /// The progress closure asked to stop.
        case cancelled
    }
    /// The epochs of this call, in order (also appended to `Model.history`).
    public var epochs: [EpochStats]
    /// Why training ended.
    public var stopReason: StopReason
    /// With early stopping: the epoch (over the model's life, from 1) whose weights the model holds.
    public var bestEpoch: Int?
}

/// Statistics of one `trainStep`.
public struct StepStats: Equatable, Sendable {
    /// The batch's mean data loss.
    public var dataLoss: Float
    /// The regularisation loss at the step.
    public var regularizationLoss: Float
    /// The share of the batch classified correctly (classifiers), before the update.
    public var accuracy: Float?
    /// The learning rate used.
    public var learningRate: Float
    /// The global L2 norm of the gradient (before clipping).
    public var gradientNorm: Float
}

/// The optimiser's persistent state: enough to continue training exactly where it stopped.
public struct TrainingState: Equatable, Sendable {
    /// The optimiser whose slots these are (nil before the first step).
    public var optimizer: Optimizer? = nil
    /// Updates applied so far.
    public var step: Int = 0
    /// Epochs completed so far (the schedule's position).
    public var epoch: Int = 0
    /// First slot block (velocity, Adagrad/RMSProp cache, or Adam's m), parameter layout.
    public var firstMoment: [Float] = []
    /// Second slot block (Adam's v), parameter layout.
    public var secondMoment: [Float] = []

    public init() {}
}
