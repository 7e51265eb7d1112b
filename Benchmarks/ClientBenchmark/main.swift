// Resolves/s from one SessionClient process with N concurrent tasks, and the near-cache hit cost.
// Usage: ClientBenchmark --url http://127.0.0.1:8090 --key KEY --tokens FILE [--tasks 50] [--seconds 8]
import Foundation
import SessionClient

@main
struct ClientBenchmark {
    static func main() async throws {
        var options: [String: String] = [:]
        var arguments = CommandLine.arguments.dropFirst()
        while let flag = arguments.popFirst(), let value = arguments.popFirst() { options[flag] = value }
        let url = options["--url"] ?? "http://127.0.0.1:8090"
        let key = options["--key"] ?? ""
        let tasks = Int(options["--tasks"] ?? "50")!
        let seconds = Double(options["--seconds"] ?? "8")!
        let tokens = try String(contentsOfFile: options["--tokens"]!, encoding: .utf8).split(separator: "\n").map(String.init)

        // 1. Throughput: resolves against sessiond (no cache).
        let client = SessionClient(configuration: .init(baseURL: url, apiKey: key, maximumConnections: tasks))
        for token in tokens.prefix(100) { _ = try await client.resolve(token: token) }
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        let started = ContinuousClock.now
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    var count = 0
                    var index = task
                    while ContinuousClock.now < deadline {
                        index = (index + 1) % tokens.count
                        guard try await client.resolve(token: tokens[index]) != nil else { fatalError("token did not resolve") }
                        count += 1
                    }
                    return count
                }
            }
            var sum = 0
            for try await count in group { sum += count }
            return sum
        }
        let elapsed = ContinuousClock.now - started
        let rps = Double(total) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        try await client.shutdown()

        // 2. Near-cache hit cost: resolve the same cached token repeatedly.
        let cached = SessionClient(configuration: .init(baseURL: url, apiKey: key, nearCache: .init(capacity: 10_000, timeToLive: .seconds(60))))
        let token = tokens[0]
        _ = try await cached.resolve(token: token)
        var samples = try await Self.measureHits(cached, token: token)
        try await cached.shutdown()
        samples.sort()
        print(String(format: "client,%.0f,%.3f", rps, samples[samples.count / 2] / 1000))
    }

    /// Nanoseconds per cached resolve, 21 batches. Nonisolated, so the loop does not hop off the
    /// main actor on every call (which would measure two thread switches, not the cache).
    nonisolated static func measureHits(_ client: SessionClient, token: String) async throws -> [Double] {
        var samples: [Double] = []
        for _ in 0..<21 {
            let batch = 10_000
            let begin = ContinuousClock.now
            for _ in 0..<batch { _ = try await client.resolve(token: token) }
            let spent = ContinuousClock.now - begin
            samples.append((Double(spent.components.seconds) * 1e9 + Double(spent.components.attoseconds) / 1e9) / Double(batch))
        }
        return samples
    }
}
