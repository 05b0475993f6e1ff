// swift-tools-version:6.0
// A separate Swift package that uses nncore as a dependency, the way an app would.
import PackageDescription

let package = Package(
    name: "SpiralExample",
    dependencies: [.package(name: "nncore", path: "../..")],
    targets: [
        .executableTarget(name: "SpiralExample", dependencies: [.product(name: "NNCore", package: "nncore")]),
    ]
)
