import Foundation
import SessionTokens
import Synchronization
import Testing
import TokenTestSupport

@Suite struct AccessTokenTests {
    let issuer = "https://sessiond.test"
    let now: Int64 = 1_800_000_000

    func expectations(leeway: Int64 = 5) -> AccessTokenJWT.Expectations {
        .init(issuer: self.issuer, audiences: ["orders"], leeway: leeway)
    }

    @Test(arguments: JWSAlgorithm.allCases)
    func aSignedTokenValidatesWithItsPublicKey(algorithm: JWSAlgorithm) throws {
        let key = PrivateSigningKey.generate(keyID: "k-\(algorithm.rawValue)", algorithm: algorithm)
        let claims = Array(#"{"iss":"https://sessiond.test","sub":"alice","aud":"orders","iat":1800000000,"exp":1800000060,"jti":"j1","sid":"h","client_id":"gw"}"#.utf8)
        let token = AccessTokenJWT.sign(claims: claims, with: key)
        let header = try #require(Base64URL.decode(Array(token.split(separator: ".")[0].utf8)))
        #expect(String(decoding: header, as: UTF8.self) == #"{"alg":"\#(algorithm.rawValue)","typ":"at+jwt","kid":"k-\#(algorithm.rawValue)"}"#)
        let verified = try AccessTokenJWT.validate(token, keys: KeySet([key.publicKey]), expectations: self.expectations(), now: self.now).get()
        #expect(verified.subject == "alice" && verified.audiences == ["orders"] && verified.expiresAt == 1_800_000_060)
        #expect(verified.sessionHandle == "h" && verified.clientID == "gw" && verified.keyID == key.keyID)
        // Any flipped byte of the signing input breaks it.
        var tampered = Array(token.utf8)
        tampered[tampered.count / 2] = tampered[tampered.count / 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(throws: AccessTokenJWT.Rejection.self) {
            try AccessTokenJWT.validate(String(decoding: tampered, as: UTF8.self), keys: KeySet([key.publicKey]), expectations: self.expectations(), now: self.now).get()
        }
    }

    @Test(arguments: Forgery.allCases)
    func everyForgeryIsRefused(forgery: Forgery) {
        let forge = TokenForge()
        let claims = TokenForge.claims(issuer: self.issuer, audience: "orders", now: self.now)
        let keys = KeySet([forge.key.publicKey])
        #expect((try? AccessTokenJWT.validate(forge.valid(claims), keys: keys, expectations: self.expectations(), now: self.now).get()) != nil)
        let result = AccessTokenJWT.validate(forge.forged(forgery, claims: claims), keys: keys, expectations: self.expectations(), now: self.now)
        guard case .failure(let rejection) = result else {
            Issue.record("\(forgery) was accepted")
            return
        }
        let expected: [Forgery: AccessTokenJWT.Rejection] = [
            .algNone: .algorithmNotAllowed, .hs256KeyedWithThePublicKey: .algorithmNotAllowed, .swappedAlg: .algorithmMismatch,
            .unknownKeyID: .unknownKeyID, .missingKeyID: .missingKeyID, .typJWT: .wrongType, .wrongAudience: .wrongAudience,
            .wrongIssuer: .wrongIssuer, .expiredPastLeeway: .expired, .unpublishedKey: .badSignature, .critHeader: .criticalHeader,
        ]
        #expect(rejection == expected[forgery])
    }

    @Test func leewayForgivesSmallSkewOnly() {
        let forge = TokenForge()
        var claims = TokenForge.claims(issuer: self.issuer, audience: "orders", now: self.now, lifetime: 60)
        let keys = KeySet([forge.key.publicKey])
        func check(_ claims: [String: Any], at now: Int64) -> AccessTokenJWT.Rejection? {
            if case .failure(let rejection) = AccessTokenJWT.validate(forge.valid(claims), keys: keys, expectations: self.expectations(leeway: 5), now: now) {
                return rejection
            }
            return nil
        }
        #expect(check(claims, at: self.now + 64) == nil)
        #expect(check(claims, at: self.now + 65) == .expired)
        claims["nbf"] = self.now + 10
        #expect(check(claims, at: self.now + 4) == .notYetValid)
        #expect(check(claims, at: self.now + 5) == nil)
        claims["exp"] = true
        #expect(check(claims, at: self.now + 6) == .missingClaim)
    }

    @Test func base64URLDecodingIsStrict() {
        #expect(Base64URL.decode(Array("aGk".utf8)) == Array("hi".utf8))
        #expect(Base64URL.decode(Array("aGk=".utf8)) == nil)  // padding
        #expect(Base64URL.decode(Array("aG+k".utf8)) == nil)  // standard alphabet
        #expect(Base64URL.decode(Array("aGl".utf8)) == nil)  // non-zero trailing bits: a second spelling
        #expect(Base64URL.decode(Array("a".utf8)) == nil)
        for count in 0..<40 {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255) }
            #expect(Base64URL.decode(Array(Base64URL.encode(bytes).utf8)) == bytes)
        }
    }

    @Test func theJWKSHoldsPublicMembersOnlyAndRoundTrips() throws {
        let keys = [PrivateSigningKey.generate(keyID: "a", algorithm: .es256), PrivateSigningKey.generate(keyID: "b", algorithm: .edDSA)]
        let set = KeySet(keys.map(\.publicKey))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(set.jwks)) as? [String: Any])
        let jwks = try #require(object["keys"] as? [[String: Any]])
        #expect(jwks.count == 2)
        for jwk in jwks {
            #expect(Set(jwk.keys).isSubset(of: ["kty", "crv", "x", "y", "kid", "alg", "use"]))
            #expect(jwk["use"] as? String == "sig")
        }
        #expect(try KeySet(jwks: set.jwks) == set)
        // A JWK carrying a private member is not a public key this verifier takes.
        let withPrivate = Array(#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","kid":"p","alg":"EdDSA"}]}"#.utf8)
        #expect(try KeySet(jwks: withPrivate).keys.isEmpty)
    }

    @Test(arguments: JWSAlgorithm.allCases)
    func aPKCS8PEMRoundTrips(algorithm: JWSAlgorithm) throws {
        let key = PrivateSigningKey.generate(keyID: "k", algorithm: algorithm)
        let parsed = try PrivateSigningKey(keyID: "k", algorithm: algorithm, pem: key.pkcs8PEM)
        #expect(parsed.publicKey == key.publicKey)
        #expect(!"\(parsed)".contains("PRIVATE"))
        let other: JWSAlgorithm = algorithm == .es256 ? .edDSA : .es256
        #expect(throws: KeyError.self) { try PrivateSigningKey(keyID: "k", algorithm: other, pem: key.pkcs8PEM) }
    }
}

/// A key set source whose answers the test controls, counting fetches.
final class ScriptedKeySource: KeySetSource, TokenIntrospector {
    struct State {
        var keySet: KeySet?
        var maxAge: Duration = .seconds(300)
        var fetches = 0
        var active = true
        var introspections = 0
        var introspectionFails = false
    }

    let state: Mutex<State>

    init(_ keySet: KeySet?) {
        self.state = Mutex(State(keySet: keySet))
    }

    var fetches: Int { self.state.withLock { $0.fetches } }

    func fetchKeySet() async throws -> FetchedKeySet {
        try self.state.withLock { state in
            state.fetches += 1
            guard let keySet = state.keySet else { throw URLError(.cannotConnectToHost) }
            return FetchedKeySet(keySet: keySet, maxAge: state.maxAge)
        }
    }

    func isActive(_ token: String) async throws -> Bool {
        try self.state.withLock { state in
            state.introspections += 1
            if state.introspectionFails { throw URLError(.cannotConnectToHost) }
            return state.active
        }
    }
}

@Suite struct TokenVerifierTests {
    let issuer = "https://sessiond.test"
    let forge = TokenForge()

    func token(lifetime: Int64 = 60, forge: TokenForge? = nil) -> String {
        (forge ?? self.forge).valid(TokenForge.claims(issuer: self.issuer, audience: "orders", now: Int64(Date().timeIntervalSince1970), lifetime: lifetime))
    }

    func verifier(_ source: ScriptedKeySource, introspect: Bool = false, refetch: Duration = .seconds(30)) -> TokenVerifier {
        TokenVerifier(
            configuration: .init(issuer: self.issuer, audiences: ["orders"], unknownKeyRefetchInterval: refetch, introspect: introspect),
            keySetSource: source,
            introspector: source
        )
    }

    @Test func verifiesAndCachesUntilTheKeySetExpires() async throws {
        let source = ScriptedKeySource(KeySet([self.forge.key.publicKey]))
        let verifier = self.verifier(source)
        let token = self.token()
        #expect(try await verifier.verify(token)?.subject == "alice")
        #expect(try await verifier.verify(token)?.subject == "alice")
        #expect(try await verifier.verify(self.token())?.subject == "alice")
        #expect(source.fetches == 1)
        // max-age honoured: an expired key set is fetched again.
        source.state.withLock { $0.maxAge = .milliseconds(50) }
        try await verifier.refresh()
        try await Task.sleep(for: .milliseconds(120))
        #expect(try await verifier.verify(self.token()) != nil)
        #expect(source.fetches == 3)
    }

    @Test func everyForgeryIsRefusedByTheVerifierToo() async throws {
        let source = ScriptedKeySource(KeySet([self.forge.key.publicKey]))
        let verifier = self.verifier(source)
        let claims = TokenForge.claims(issuer: self.issuer, audience: "orders", now: Int64(Date().timeIntervalSince1970))
        for forgery in Forgery.allCases {
            let result = try await verifier.verify(self.forge.forged(forgery, claims: claims))
            #expect(result == nil, "\(forgery) was accepted")
        }
    }

    @Test func anUnknownKeyIDRefetchesAtMostOncePerInterval() async throws {
        let source = ScriptedKeySource(KeySet([self.forge.key.publicKey]))
        let verifier = self.verifier(source)
        let next = TokenForge(keyID: "next")
        #expect(try await verifier.verify(self.token()) != nil)
        #expect(try await verifier.verify(self.token(forge: next)) == nil)
        #expect(source.fetches == 2)
        // The issuer now publishes the new key, but the refetch interval has not passed: no fetch.
        source.state.withLock { $0.keySet = KeySet([self.forge.key.publicKey, next.key.publicKey]) }
        #expect(try await verifier.verify(self.token(forge: next)) == nil)
        #expect(source.fetches == 2)
        // With a short interval, the unknown kid is learnt on the next try.
        let eager = self.verifier(source, refetch: .milliseconds(1))
        #expect(try await eager.verify(self.token(forge: TokenForge(keyID: "ghost"))) == nil)
        try await Task.sleep(for: .milliseconds(5))
        #expect(try await eager.verify(self.token(forge: next))?.keyID == "next")
    }

    @Test func keepsTheLastGoodKeySetAndThrowsWithoutOne() async throws {
        let empty = ScriptedKeySource(nil)
        await #expect(throws: TokenVerifierError.noKeySet) { try await self.verifier(empty).verify(self.token()) }
        let source = ScriptedKeySource(KeySet([self.forge.key.publicKey]))
        source.state.withLock { $0.maxAge = .milliseconds(10) }
        let verifier = self.verifier(source)
        #expect(try await verifier.verify(self.token()) != nil)
        source.state.withLock { $0.keySet = nil }  // the issuer is down from now on
        try await Task.sleep(for: .milliseconds(30))
        #expect(try await verifier.verify(self.token()) != nil)
        #expect(source.fetches >= 2)
    }

    @Test func introspectionDecidesWhenAskedFor() async throws {
        let source = ScriptedKeySource(KeySet([self.forge.key.publicKey]))
        let verifier = self.verifier(source, introspect: true)
        let token = self.token()
        #expect(try await verifier.verify(token) != nil)
        source.state.withLock { $0.active = false }
        #expect(try await verifier.verify(token) == nil)
        source.state.withLock { $0.introspectionFails = true }
        await #expect(throws: TokenVerifierError.introspectionFailed) { try await verifier.verify(token) }
        #expect(source.state.withLock { $0.introspections } == 3)
    }

    @Test func aCachedTokenStillExpires() async throws {
        let source = ScriptedKeySource(KeySet([self.forge.key.publicKey]))
        let clock = Mutex<Int64>(Int64(Date().timeIntervalSince1970))
        let verifier = TokenVerifier(
            configuration: .init(issuer: self.issuer, audiences: ["orders"], leeway: .seconds(5)),
            keySetSource: source,
            clock: { clock.withLock { $0 } }
        )
        let token = self.token(lifetime: 10)
        #expect(try await verifier.verify(token) != nil)
        clock.withLock { $0 += 14 }
        #expect(try await verifier.verify(token) != nil)
        clock.withLock { $0 += 2 }
        #expect(try await verifier.verify(token) == nil)
    }
}
