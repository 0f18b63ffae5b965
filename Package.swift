// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "FieldSync",
    products: [
        .library(name: "SyncKit", targets: ["SyncKit"]),
        .library(name: "FieldKit", targets: ["FieldKit"]),
        .executable(name: "fieldsync", targets: ["fieldsync"]),
        .executable(name: "fieldsync-bench", targets: ["fieldsync-bench"]),
    ],
    targets: [
        // Debian's libsqlite3, behind a tiny shim (SQLITE_TRANSIENT is a cast macro Swift cannot see).
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // The embeddable engine: Foundation + SQLite only.
        .target(name: "SyncKit", dependencies: ["CSQLite"], swiftSettings: strict),
        // The field domain: households, doorplates, tasks.
        .target(name: "FieldKit", dependencies: ["SyncKit"], swiftSettings: strict),
        .executableTarget(name: "fieldsync", dependencies: ["SyncKit", "FieldKit", "CentralNode"], swiftSettings: strict),
        .executableTarget(name: "fieldsync-bench", dependencies: ["SyncKit", "FieldKit", "CentralNode"], swiftSettings: strict),
        .testTarget(name: "SyncKitTests", dependencies: ["SyncKit"], swiftSettings: strict),
        .testTarget(name: "FieldKitTests", dependencies: ["FieldKit", "SyncKit"], swiftSettings: strict),
        // Debian's libmicrohttpd (HTTP server for the central node; TLS through GnuTLS).
        .systemLibrary(
            name: "CMicroHTTPD",
            pkgConfig: "libmicrohttpd",
            providers: [.apt(["libmicrohttpd-dev"])]
        ),
        // Non-variadic wrappers for libmicrohttpd's variadic functions.
        .target(name: "CMicroHTTPDShim", dependencies: ["CMicroHTTPD"]),
        // Debian's libqrencode: the enrollment QR code an operator prints (central node only).
        .systemLibrary(
            name: "CQREncode",
            pkgConfig: "libqrencode",
            providers: [.apt(["libqrencode-dev"])]
        ),
        // Debian's libargon2: operators' passwords stored as Argon2id hashes (central node only).
        .systemLibrary(
            name: "CArgon2",
            pkgConfig: "libargon2",
            providers: [.apt(["libargon2-dev"])]
        ),
        // The hub: HTTP server, auth, scopes, central store, review queue, district data, the
        // operators' console and its admin API.
        .target(
            name: "CentralNode",
            dependencies: ["SyncKit", "FieldKit", "CMicroHTTPD", "CMicroHTTPDShim", "CQREncode", "CArgon2"],
            swiftSettings: strict
        ),
        // The deterministic simulator (Design.md, "Simulation"): a hub and devices, faults, crashes, clocks.
        .target(name: "FieldSyncSim", dependencies: ["SyncKit", "FieldKit", "CentralNode"], swiftSettings: strict),
        // The checks of every parser of outside input, shared by the seeded fuzzer (CentralNodeTests)
        // and the libFuzzer harness, `fieldsync-fuzz` (`make fuzz`).
        .target(name: "FuzzChecks", dependencies: ["SyncKit", "FieldKit"], swiftSettings: strict),
        .executableTarget(name: "fieldsync-fuzz", dependencies: ["FuzzChecks"], swiftSettings: strict),
        .executableTarget(name: "fieldsync-sim", dependencies: ["FieldSyncSim"], swiftSettings: strict),
        .testTarget(name: "CentralNodeTests", dependencies: ["CentralNode", "FieldKit", "FieldSyncSim", "FuzzChecks"], swiftSettings: strict),
        // Runs the built `fieldsync` binary (built by `swift build --build-tests`) as a user would.
        .testTarget(name: "CLITests", swiftSettings: strict),
    ]
)
