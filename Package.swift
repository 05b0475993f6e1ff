// swift-tools-version:6.0
// nncore: an embeddable runtime that builds, trains, saves, loads and runs MLPs on the CPU.
// Targets follow DESIGN.md §7: the engine (NNCore) is pure Swift without Foundation; CBLAS is
// OpenBLAS's cblas.h as a system module; NNSchema is protoc-c's output for the model file; NNCoreC is the C ABI (libnncore.so); nn is the CLI.
import PackageDescription

let package = Package(
    name: "nncore",
    products: [
        .library(name: "nncore", type: .dynamic, targets: ["NNCoreC"]),
        .library(name: "NNCore", targets: ["NNCore"]),
        .executable(name: "nn", targets: ["nn"]),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            path: "Sources/CBLAS",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(
            name: "NNSchema",
            path: "Sources/NNSchema",
            exclude: ["README.md"],
            linkerSettings: [.linkedLibrary("protobuf-c")]
        ),
        // Optimised in debug builds too: the small-product loops (SmallGemm.swift) use SIMD and
        // InlineArray, which unoptimised code runs hundreds of times slower, and every test
        // trains through them.
        .target(name: "NNCore", dependencies: ["CBLAS", "NNSchema"],
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .systemLibrary(name: "CNNCore", path: "Sources/CNNCore"),
        .target(name: "NNCoreC", dependencies: ["NNCore", "CNNCore"]),
        .executableTarget(name: "nn", dependencies: ["NNCore"]),
        .testTarget(name: "NNCoreTests", dependencies: ["NNCore"]),
    ]
)
