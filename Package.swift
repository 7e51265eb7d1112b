// swift-tools-version: 6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "sessiond",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "sessiond", targets: ["sessiond"]),
        .library(name: "RedisWire", targets: ["RedisWire"]),
        .library(name: "SessionCore", targets: ["SessionCore"]),
        .library(name: "SessionServer", targets: ["SessionServer"]),
        .library(name: "SessionTokens", targets: ["SessionTokens"]),
        .library(name: "SessionClient", targets: ["SessionClient"]),
        .library(name: "SessionClientHummingbird", targets: ["SessionClientHummingbird"]),
        .executable(name: "sessionctl", targets: ["sessionctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.29.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.24.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.3.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.24.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .target(
            name: "RedisWire",
            dependencies: [
                "CHiredis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SessionTokens",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SessionCore",
            dependencies: [
                "RedisWire",
                "SessionTokens",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SessionServer",
            dependencies: [
                "SessionCore",
                "SessionTokens",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "sessiond",
            dependencies: [
                "SessionServer",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SessionClient",
            dependencies: [
                "SessionTokens",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SessionClientHummingbird",
            dependencies: [
                "SessionClient",
                "SessionTokens",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "sessionctl",
            dependencies: [
                "SessionClient",
                "SessionTokens",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "example-login",
            dependencies: ["SessionClient", .product(name: "Hummingbird", package: "hummingbird")],
            path: "Examples/LoginService",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "example-orders",
            dependencies: ["SessionClient", "SessionClientHummingbird", "SessionTokens", .product(name: "Hummingbird", package: "hummingbird")],
            path: "Examples/OrdersService",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ClientBenchmark",
            dependencies: ["SessionClient"],
            path: "Benchmarks/ClientBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "TokenBenchmark",
            dependencies: ["SessionTokens"],
            path: "Benchmarks/TokenBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "RedisBenchmark",
            dependencies: [
                "RedisWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/RedisBenchmark",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RedisWireTests",
            dependencies: [
                "RedisWire",
                "RedisTestSupport",
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RedisTestSupport",
            dependencies: [
                "RedisWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/RedisTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RedisIntegrationTests",
            dependencies: [
                "RedisWire", "RedisTestSupport", .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SessionIntegrationTests",
            dependencies: [
                "SessionServer",
                "RedisTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SessionClientTests",
            dependencies: [
                "SessionClient",
                "SessionTokens",
                "SessionClientHummingbird",
                "SessionServer",
                "RedisTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TokenTestSupport",
            dependencies: ["SessionTokens", .product(name: "Crypto", package: "swift-crypto")],
            path: "Tests/TokenTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SessionTokensTests",
            dependencies: ["SessionTokens", "TokenTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SessionCoreTests",
            dependencies: ["SessionCore", "SessionTokens"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SessionServerTests",
            dependencies: [
                "SessionServer",
                "SessionTokens",
                "TokenTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
