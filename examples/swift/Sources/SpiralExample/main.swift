// Train the lecture's 2-layer net on the spiral, save it, load it back and predict — from Swift,
// through `import NNCore`. Exits 1 if anything is off.
import NNCore
#if canImport(Glibc)
import Glibc
#endif

do {
    let data = try SyntheticData.spiral(pointsPerClass: 100, classes: 3, seed: 0)
    var model = try Model(inputs: 2, layers: [.dense(units: 100, activation: .relu), .dense(units: 3)],
                          loss: .softmaxCrossEntropy, seed: 0)
    var options = TrainingOptions()
    options.epochs = 2000
    options.batchSize = 0
    options.learningRate = 1.0
    options.l2 = 1e-3
    options.schedule = .stepDecay(milestones: [1000, 1500], factor: 0.1)
    try model.fit(data, options: options) { stats in
        if stats.epoch % 500 == 0 { print("epoch \(stats.epoch): loss \(stats.loss), accuracy \(stats.accuracy ?? 0)") }
        return .continue
    }
    try model.setClassLabels(["arm 0", "arm 1", "arm 2"])

    let path = "spiral-example.nnm"
    try model.save(to: path)
    let loaded = try Model(contentsOf: path)
    let before = try model.predict(data.inputs), after = try loaded.predict(data.inputs)
    let accuracy = try loaded.evaluate(data).accuracy ?? 0
    let point = try Matrix([[0.0, 0.5]])
    let label = loaded.classLabels[try loaded.classify(point)[0]]
    print("saved and loaded \(path): accuracy \(accuracy); (0, 0.5) belongs to \(label)")
    guard before == after, accuracy >= 0.97 else {
        print("error: the loaded model differs or is not accurate enough")
        exit(1)
    }
} catch {
    print("error: \(error)")
    exit(1)
}
