// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "nnconf",
    products: [
        .library(name: "NNCore", targets: ["NNCore"]),
        .library(name: "NNReference", targets: ["NNReference"]),
        .library(name: "NNModules", targets: ["NNModules"]),
        .library(name: "NNOptimized", targets: ["NNOptimized"]),
        .library(name: "ConformanceKit", targets: ["ConformanceKit"]),
        .executable(name: "conformance", targets: ["ConformanceCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
        .package(url: "https://github.com/JohnSundell/Plot", from: "0.14.0"),
    ],
    targets: [
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CJSONC", pkgConfig: "json-c",
                       providers: [.apt(["libjson-c-dev"])]),
        // Tensor, dtypes, broadcasting, autograd engine, errors, the op table.
        .target(name: "NNCore", dependencies: [.product(name: "RealModule", package: "swift-numerics")]),
        // The plain reference backend: loops a reader can check against the maths.
        .target(name: "NNReference", dependencies: ["NNCore", .product(name: "RealModule", package: "swift-numerics")]),
        // Float32 row kernels compiled per x86-64 ISA level and chosen at run time (no build flags).
        .target(name: "CKernels"),
        // The optimized backend: OpenBLAS GEMM, Swift SIMD, threads; same op table and signatures.
        .target(name: "NNOptimized", dependencies: ["NNCore", "COpenBLAS", "CKernels", .product(name: "RealModule", package: "swift-numerics")]),
        // torch.nn: modules that hold parameters and call the functional ops through a backend.
        .target(name: "NNModules", dependencies: ["NNCore"]),
        // Fixture loading (json-c), running, comparing, reporting.
        .target(name: "ConformanceKit", dependencies: ["NNCore", "NNReference", "NNModules", "CJSONC", "COpenBLAS",
                                                   .product(name: "Plot", package: "Plot")]),
        .executableTarget(name: "ConformanceCLI", dependencies: [
            "ConformanceKit", "NNCore", "NNReference", "NNModules", "NNOptimized",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // libFuzzer target over fixture loading and running (tools/fuzz.sh); built plainly, the
        // reproducer that runs the files it is given once.
        .executableTarget(name: "FixtureFuzzer", dependencies: ["ConformanceKit"]),
        .testTarget(name: "NNCoreTests", dependencies: ["NNCore"]),
        .testTarget(name: "NNReferenceTests", dependencies: ["NNReference", "NNCore"]),
        .testTarget(name: "NNOptimizedTests", dependencies: ["NNOptimized", "CKernels", "NNReference", "NNCore", "ConformanceKit"]),
        .testTarget(name: "NNModulesTests", dependencies: ["NNModules", "NNReference", "NNCore"]),
        .testTarget(name: "ConformanceKitTests", dependencies: ["ConformanceKit", "NNReference", "NNCore"],
                    exclude: ["FuzzCrashers"]),
    ]
)
