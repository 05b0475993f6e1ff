// swift-tools-version:6.0
// nncore: an embeddable runtime that builds, trains, saves, loads and runs MLPs on the CPU.
// Targets follow DESIGN.md §7: the engine (NNCore) is pure Swift without Foundation; NNKernels
// holds its SIMD loops, which NNKernelsAVX2 compiles again for AVX2 and FMA (run where
// CPUFeatures says the CPU can); CBLAS is OpenBLAS's cblas.h as a system module; NNSchema is
// protoc-c's output for the model file; NNCoreC is the C ABI (libnncore.so); nn is the CLI.
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
        // The SIMD loops of the hot paths, written once, generic over how a multiply-add is done.
        // Optimised in debug builds too (as are NNCore and NNKernelsAVX2): they use SIMD and
        // InlineArray, which unoptimised code runs hundreds of times slower, and every test
        // trains through them.
        .target(name: "NNKernels", swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // The same loops compiled for AVX2 and FMA, run only where CPUFeatures says the CPU can.
        .target(name: "NNKernelsAVX2", dependencies: ["NNKernels"],
                swiftSettings: [.unsafeFlags(["-target-cpu", "haswell"]),
                                .unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(name: "CPUFeatures"),
        .target(name: "NNCore", dependencies: ["CBLAS", "NNSchema", "NNKernels", "NNKernelsAVX2", "CPUFeatures"],
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .systemLibrary(name: "CNNCore", path: "Sources/CNNCore"),
        .target(name: "NNCoreC", dependencies: ["NNCore", "CNNCore"]),
        .executableTarget(name: "nn", dependencies: ["NNCore"]),
        .testTarget(name: "NNCoreTests", dependencies: ["NNCore", "NNKernels", "CPUFeatures"]),
    ]
)
