// TokenVerifier and signing costs, per algorithm: a cached check (a token verified before), an
// uncached check (signature and claims), and a signature. Medians of 21 batches, nanoseconds.
// Usage: TokenBenchmark   (prints CSV lines: verify-cached,ALG,ns / verify-uncached,ALG,ns / sign,ALG,ns)
import Foundation
import SessionTokens

struct StaticKeys: KeySetSource {
    let keySet: KeySet
    func fetchKeySet() async throws -> FetchedKeySet { FetchedKeySet(keySet: self.keySet, maxAge: .seconds(3600)) }
}

@main
struct TokenBenchmark {
    static func main() async throws {
        try await self.run()
    }

    nonisolated static func run() async throws {
        for algorithm in JWSAlgorithm.allCases {
            let key = PrivateSigningKey.generate(keyID: "bench-\(algorithm.rawValue)", algorithm: algorithm)
            let now = Int64(Date().timeIntervalSince1970)
            @Sendable func claims(_ i: Int) -> [UInt8] {
                Array(
                    #"{"iss":"https://sessiond.bench","sub":"user-\#(i)","aud":"orders","iat":\#(now),"exp":\#(now + 300),"jti":"j\#(i)","sid":"AAAAhandlehandlehandlehandlehandle\#(i)","client_id":"gateway","name":"User \#(i)"}"#.utf8
                )
            }
            let tokens = (0..<20_000).map { AccessTokenJWT.sign(claims: claims($0), with: key) }
            let verifier = TokenVerifier(
                configuration: .init(issuer: "https://sessiond.bench", audiences: ["orders"], cacheCapacity: 100_000),
                keySetSource: StaticKeys(keySet: KeySet([key.publicKey]))
            )
            try await verifier.refresh()
            // Uncached: each token once (the first check verifies the signature and fills the cache).
            let uncached = try await Self.measure(batches: 20, batch: 500) { batch, i in
                guard try await verifier.verify(tokens[batch * 500 + i]) != nil else { fatalError("token refused") }
            }
            // Cached: the same token again and again.
            let cached = try await Self.measure(batches: 21, batch: 20_000) { _, i in
                guard try await verifier.verify(tokens[i & 1023]) != nil else { fatalError("token refused") }
            }
            let signing = try await Self.measure(batches: 21, batch: 500) { _, i in
                _ = AccessTokenJWT.sign(claims: claims(i), with: key)
            }
            print("verify-cached,\(algorithm.rawValue),\(cached)")
            print("verify-uncached,\(algorithm.rawValue),\(uncached)")
            print("sign,\(algorithm.rawValue),\(signing)")
        }
    }

    /// Median nanoseconds per call over `batches` batches of `batch` calls.
    nonisolated static func measure(batches: Int, batch: Int, _ body: @Sendable (Int, Int) async throws -> Void) async throws -> Int {
        var samples: [Double] = []
        for b in 0..<batches {
            let begin = ContinuousClock.now
            for i in 0..<batch { try await body(b, i) }
            let elapsed = ContinuousClock.now - begin
            samples.append((Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9) / Double(batch))
        }
        samples.sort()
        return Int(samples[samples.count / 2].rounded())
    }
}
