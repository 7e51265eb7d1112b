// GET throughput of RedisWire with N concurrent tasks, for comparison with redis-benchmark.
// Usage: RedisBenchmark [--url redis://127.0.0.1:6400] [--tasks 50] [--requests 200000] [--pool 2]
import Foundation
import Logging
import NIOCore
import RedisWire

@main
struct RedisBenchmark {
    static func main() async throws {
        var url = "redis://127.0.0.1:6400"
        var tasks = 50
        var requests = 200_000
        var pool = 2
        var arguments = CommandLine.arguments.dropFirst()
        while let flag = arguments.popFirst() {
            guard let value = arguments.popFirst() else { break }
            switch flag {
            case "--url": url = value
            case "--tasks": tasks = Int(value)!
            case "--requests": requests = Int(value)!
            case "--pool": pool = Int(value)!
            default: fatalError("unknown flag \(flag)")
            }
        }
        var configuration = try RedisConfiguration(url: url)
        configuration.poolSize = pool
        configuration.timeouts.command = .seconds(5)
        let client = RedisClient(configuration: configuration, logger: Logger(label: "bench"))
        try await client.set("bench:key", to: RedisArgument(bytes: Array(repeating: 120, count: 3)))
        // Warm-up: open every connection.
        for _ in 0..<1000 { _ = try await client.get("bench:key") }

        let perTask = requests / tasks
        let clock = ContinuousClock()
        let started = clock.now
        let latencies = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for _ in 0..<tasks {
                group.addTask {
                    var samples = [Int64]()
                    samples.reserveCapacity(perTask)
                    for _ in 0..<perTask {
                        let begin = clock.now
                        guard try await client.get("bench:key") != nil else { fatalError("bench:key missing") }
                        let elapsed = clock.now - begin
                        samples.append(elapsed.components.attoseconds / 1_000_000_000 + elapsed.components.seconds * 1_000_000_000)
                    }
                    return samples
                }
            }
            var all = [Int64]()
            for try await samples in group { all.append(contentsOf: samples) }
            return all
        }
        let elapsed = clock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double { Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) / 1e6 }
        let rps = Double(sorted.count) / seconds
        print(String(format: "redis-wire,%.0f,%.3f,%.3f", rps, percentile(0.5), percentile(0.99)))
        await client.shutdown()
    }
}
