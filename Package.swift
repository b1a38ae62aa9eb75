// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "Homing",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "homing", targets: ["homing"]),
        // The pure parsers, for the libFuzzer targets of Fuzzing/ (a package that depends on this one by path).
        .library(name: "HomingParsers", targets: ["HomingConfig", "HomingUserdb", "HomingLMTP", "HomingSieve", "HomingQuota"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // Dovecot configuration syntax, Homing's settings model and `%` variable expansion.
        .target(name: "HomingConfig", swiftSettings: strict),
        // Userdb abstraction and the file-based drivers (static, passwd-file, passwd).
        .target(
            name: "HomingUserdb",
            dependencies: [
                "HomingConfig",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // libpq and libldap, from Debian's libpq-dev and libldap2-dev.
        .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CLibLDAP", path: "Sources/CLibLDAP", providers: [.apt(["libldap2-dev"])]),
        // The `sql` userdb driver (PostgreSQL through libpq), configured by dovecot-sql.conf.ext.
        .target(
            name: "HomingUserdbSQL",
            dependencies: [
                "HomingConfig", "HomingUserdb", "CLibPQ",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The `ldap` userdb driver (OpenLDAP through libldap), configured by dovecot-ldap.conf.ext.
        .target(
            name: "HomingUserdbLDAP",
            dependencies: [
                "HomingConfig", "HomingUserdb", "CLibLDAP",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Maildir storage: mail_location parsing, unique names, durable writes, privileges.
        .target(name: "HomingMaildir", dependencies: ["HomingConfig"], swiftSettings: strict),
        // Quota (issue 6): quota rules and Maildir++ maildirsize accounting.
        .target(name: "HomingQuota", dependencies: ["HomingConfig"], swiftSettings: strict),
        // Sieve (issue 7): the language, RFC 5228 and its extensions.
        .target(name: "HomingSieve", swiftSettings: strict),
        // Outgoing mail for Sieve's redirect, reject and vacation: sendmail_path or submission_host.
        .target(name: "HomingSubmission", swiftSettings: strict),
        // LMTP protocol: command parser, session state machine, SwiftNIO handlers.
        .target(
            name: "HomingLMTP",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Delivery: recipient resolution, headers, per-recipient storage, plugin seams.
        .target(
            name: "HomingDelivery",
            dependencies: [
                "HomingConfig", "HomingUserdb", "HomingMaildir", "HomingLMTP", "HomingQuota", "HomingSieve",
                "HomingSubmission",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The server: listeners and lifecycle.
        .target(
            name: "HomingServer",
            dependencies: [
                "HomingConfig", "HomingUserdb", "HomingLMTP", "HomingDelivery",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "homing",
            dependencies: [
                "HomingConfig", "HomingUserdb", "HomingUserdbSQL", "HomingUserdbLDAP", "HomingServer",
                "HomingDelivery", "HomingQuota", "HomingSieve", "HomingMaildir",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Helpers for tests only: throwaway PostgreSQL and slapd servers, temporary directories, processes.
        .target(
            name: "HomingTestSupport",
            dependencies: ["HomingConfig", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .testTarget(name: "HomingConfigTests", dependencies: ["HomingConfig"], swiftSettings: strict),
        .testTarget(name: "HomingUserdbTests", dependencies: ["HomingUserdb", "HomingTestSupport"], swiftSettings: strict),
        .testTarget(name: "HomingUserdbSQLTests", dependencies: ["HomingUserdbSQL", "HomingTestSupport"], swiftSettings: strict),
        .testTarget(name: "HomingUserdbLDAPTests", dependencies: ["HomingUserdbLDAP", "HomingTestSupport"], swiftSettings: strict),
        .testTarget(name: "HomingQuotaTests", dependencies: ["HomingQuota"], swiftSettings: strict),
        .testTarget(name: "HomingSieveTests", dependencies: ["HomingSieve"], swiftSettings: strict),
        .testTarget(name: "HomingSubmissionTests", dependencies: ["HomingSubmission"], swiftSettings: strict),
        .testTarget(name: "HomingMaildirTests", dependencies: ["HomingMaildir"], swiftSettings: strict),
        .testTarget(
            name: "HomingLMTPTests",
            dependencies: [
                "HomingLMTP", "HomingTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "HomingDeliveryTests",
            dependencies: [
                "HomingDelivery", "HomingSieve", "HomingTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Starts the real `homing` binary and talks to it over sockets.
        .testTarget(
            name: "HomingIntegrationTests",
            dependencies: ["HomingConfig", "HomingTestSupport", .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: strict
        ),
    ]
)
