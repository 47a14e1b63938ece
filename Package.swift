// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ZFlow",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "ZFlow", targets: ["ZFlow"]),
        .executable(name: "zflow-scheduler", targets: ["zflow-scheduler"]),
        .executable(name: "zflow-worker", targets: ["zflow-worker"]),
        .executable(name: "zflow", targets: ["zflow"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CZMQShim", path: "CZMQShim", pkgConfig: "libzmq",
            providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(
            name: "CMsgPack", path: "CMsgPack", pkgConfig: "msgpack",
            providers: [.apt(["libmsgpack-dev"])]),
        .target(name: "ZFlowCore"),
        .target(name: "CPrefetch"),
        .target(name: "ZFlowWords", dependencies: ["CPrefetch"]),
        .target(name: "CCrashReport"),
        .target(name: "ZFlowWire", dependencies: ["ZFlowCore", "CMsgPack"]),
        .target(
            name: "ZFlowScheduling",
            dependencies: ["ZFlowCore", .product(name: "Collections", package: "swift-collections")]),
        .target(name: "ZFlowZMQ", dependencies: ["ZFlowCore", "CZMQShim"]),
        .target(
            name: "ZFlow",
            dependencies: [
                "ZFlowCore", "ZFlowWire", "ZFlowScheduling", "ZFlowZMQ", "ZFlowWords", "CCrashReport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Collections", package: "swift-collections"),
            ]),
        .target(name: "ZFlowTestKit", dependencies: ["ZFlowCore", "ZFlowScheduling", "ZFlowWire", "ZFlowZMQ"]),
        .executableTarget(
            name: "zflow-scheduler",
            dependencies: ["ZFlow", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(
            name: "zflow-worker",
            dependencies: ["ZFlow", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(
            name: "zflow",
            dependencies: [
                "ZFlow", "ZFlowZMQ", "ZFlowScheduling", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]),
        .executableTarget(name: "zflow-fuzz", dependencies: ["ZFlowWire", "ZFlowCore"]),
        .executableTarget(name: "zflow-extreme", dependencies: ["ZFlow", "ZFlowCore", "ZFlowTestKit", "ZFlowZMQ"]),
        .executableTarget(name: "wordcount", dependencies: ["ZFlow"], path: "examples/wordcount", exclude: ["corpus"]),
        .executableTarget(name: "quickstart", dependencies: ["ZFlow"], path: "examples/quickstart"),
        .executableTarget(name: "custom-worker", dependencies: ["ZFlow"], path: "examples/custom-worker"),
        .executableTarget(name: "zflow-test-worker", dependencies: ["ZFlow"], path: "Tests/ZFlowTestWorker"),
        .testTarget(name: "ZFlowWireTests", dependencies: ["ZFlowWire", "ZFlowCore"]),
        .testTarget(name: "ZFlowSchedulingTests", dependencies: ["ZFlowScheduling", "ZFlowTestKit"]),
        .testTarget(name: "ZFlowZMQTests", dependencies: ["ZFlowZMQ"]),
        .testTarget(name: "ZFlowWordsTests", dependencies: ["ZFlowWords"]),
        .testTarget(
            name: "ZFlowIntegrationTests",
            dependencies: [
                "ZFlow", "ZFlowTestKit", "ZFlowWire", "ZFlowZMQ", "ZFlowCore", "zflow-scheduler", "zflow-worker", "zflow",
                "zflow-test-worker", "zflow-extreme",
            ]),
    ]
)
