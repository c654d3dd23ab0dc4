// swift-tools-version:6.0
// A backend of your own, checked against nnconf's PyTorch fixtures by `swift test`.
// See docs/external-backends.md, "Swift: a backend in your own package".
import PackageDescription

let package = Package(
    name: "swift-backend",
    dependencies: [
        // In your own package: .package(url: "<nnconf's git URL>", branch: "main"), or a path.
        .package(name: "nnconf", path: "../.."),
    ],
    targets: [
        // Your kernels: they need only NNCore (Tensor, autograd, the Backend protocol).
        .target(name: "MyBackend", dependencies: [.product(name: "NNCore", package: "nnconf")]),
        // Your tests: ConformanceKit runs fixtures and fails the test case by case.
        .testTarget(name: "MyBackendTests", dependencies: [
            "MyBackend",
            .product(name: "NNCore", package: "nnconf"),
            .product(name: "ConformanceKit", package: "nnconf"),
        ]),
    ]
)
