// swift-tools-version: 6.0
// Ramkoll: batch ETL and reconciliation for the finance of Swedish social-services committees.
//
// Targets, from the bottom up (a stranger should find where a new check or source goes in a minute):
//   CLibXML2        — system library (pkg-config libxml-2.0, apt libxml2-dev); imported by ONE Swift file.
//   RamkollModel    — the common schema: öre, periods, source references, entries, units, report lines.
//   RamkollReaders  — streaming importers: byte-level CSV, libxml2 XML records, number/date parsing.
//   RamkollPipeline — pipeline files, mapping tables, the stages and their artifacts (manifests).
//   RamkollHistory  — the run history and warehouse in SQLite (GRDB): `ramkoll runs`, loads of a run's tables.
//   RamkollPostgres — the same warehouse in PostgreSQL (postgres-nio), when a pipeline names a connection.
//   ramkoll         — the thin command line (swift-argument-parser); bootstraps logging.
import PackageDescription

/// Release builds of Ramkoll's own targets skip the runtime exclusivity checks (the profile of a
/// 10M-row run spent about a tenth of its time in them); debug builds and the tests keep them.
let fast: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked", "-cross-module-optimization"], .when(configuration: .release))]

let package = Package(
    name: "Ramkoll",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "ramkoll", targets: ["ramkoll"]),
        .library(name: "RamkollPipeline", targets: ["RamkollPipeline"]),
        // The readers and the model on their own (Scripts/fuzz builds its targets against them).
        .library(name: "RamkollReaders", targets: ["RamkollReaders"]),
        .library(name: "RamkollModel", targets: ["RamkollModel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        .target(name: "RamkollModel", swiftSettings: fast),
        .target(
            name: "RamkollReaders",
            dependencies: ["RamkollModel", "CLibXML2"],
            swiftSettings: fast
        ),
        .target(
            name: "RamkollPipeline",
            dependencies: [
                "RamkollModel", "RamkollReaders",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: fast
        ),
        .target(
            name: "RamkollHistory",
            dependencies: [
                "RamkollModel", "RamkollPipeline",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: fast
        ),
        .target(
            name: "RamkollPostgres",
            dependencies: [
                "RamkollModel", "RamkollPipeline", "RamkollHistory",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "ramkoll",
            dependencies: [
                "RamkollPipeline", "RamkollHistory", "RamkollPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "RamkollTests",
            dependencies: [
                "RamkollModel", "RamkollReaders", "RamkollPipeline", "RamkollHistory", "RamkollPostgres",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
