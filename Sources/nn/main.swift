import NNCore
#if canImport(Glibc)
import Glibc
#endif

let start = monotonic()
func monotonic() -> Double { var ts = timespec(); clock_gettime(CLOCK_MONOTONIC, &ts); return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9 }
let data = try SyntheticData.spiral()
var model = try Model(inputs: 2, layers: [.dense(units: 100, activation: .relu), .dense(units: 3)], loss: .softmaxCrossEntropy)
var options = TrainingOptions()
options.epochs = 10000; options.batchSize = 0; options.learningRate = 1.0; options.l2 = 1e-3
try model.fit(data, options: options) { s in
    if s.epoch % 1000 == 0 { print(s.epoch, s.dataLoss, s.regularizationLoss, s.accuracy ?? -1) }
    return .continue
}
print("acc", try model.evaluate(data).accuracy ?? -1, monotonic() - start)
