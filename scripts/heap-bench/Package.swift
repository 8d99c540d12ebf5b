// swift-tools-version:6.1
// A micro-benchmark: jobd's hand-written DeadlineHeap (as of 6bef484) against
// swift-collections' Heap, on the dispatcher's pattern. See docs/benchmarks.md.
import PackageDescription

let package = Package(
    name: "heap-bench",
    dependencies: [.package(url: "https://github.com/apple/swift-collections", exact: "1.6.0")],
    targets: [
        .executableTarget(
            name: "HeapBench", dependencies: [.product(name: "HeapModule", package: "swift-collections")])
    ]
)
