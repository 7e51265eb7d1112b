import Synchronization
import Testing

@testable import SessionCore

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let now = Mutex<Int64>(1_800_000_000_000)
    func advance(seconds: Int64) { self.now.withLock { $0 += seconds * 1000 } }
    var milliseconds: Int64 { self.now.withLock { $0 } }
}

@Suite struct InMemoryRepositoryTests {
    let clock = ManualClock()
    var repository: InMemorySessionRepository {
        InMemorySessionRepository(policy: StorePolicy(touchInterval: 10_000, maximumSessionsPerUser: 3), clock: { [clock] in clock.milliseconds })
    }

    func newSession(_ user: String = "alice", idle: Int64 = 60, absolute: Int64 = 600) -> NewSession {
        NewSession(userID: user, dataJSON: Array(#"{"a":1}"#.utf8), metadataJSON: Array("{}".utf8), idleTimeout: idle * 1000, absoluteTimeout: absolute * 1000)
    }

    @Test func idleTimeoutEndsAnUnusedSessionAndResolvesSlideIt() async throws {
        let repository = self.repository
        let issued = try await repository.create(self.newSession(idle: 60))
        self.clock.advance(seconds: 50)
        #expect(try await repository.resolve(issued.token) != nil)  // slides: last seen = +50
        self.clock.advance(seconds: 50)
        #expect(try await repository.resolve(issued.token) != nil)  // +100 < 50 + 60
        self.clock.advance(seconds: 61)
        #expect(try await repository.resolve(issued.token) == nil)
    }

    @Test func touchesAreThrottled() async throws {
        let repository = self.repository
        let issued = try await repository.create(self.newSession())
        self.clock.advance(seconds: 5)
        let early = try await repository.resolve(issued.token)
        #expect(early?.lastSeenAt == issued.session.createdAt)  // within the 10 s touch interval: no write
        self.clock.advance(seconds: 6)
        let late = try await repository.resolve(issued.token)
        #expect(late?.lastSeenAt == issued.session.createdAt + 11_000)
    }

    @Test func absoluteTimeoutWinsOverActivity() async throws {
        let repository = self.repository
        let issued = try await repository.create(self.newSession(idle: 60, absolute: 100))
        for _ in 0..<4 {
            self.clock.advance(seconds: 20)
            #expect(try await repository.resolve(issued.token) != nil)
        }
        self.clock.advance(seconds: 21)
        #expect(try await repository.resolve(issued.token) == nil)
    }

    @Test func creatingBeyondTheLimitEvictsTheOldest() async throws {
        let repository = self.repository
        var tokens: [SessionToken] = []
        for _ in 0..<5 { tokens.append(try await repository.create(self.newSession()).token) }
        #expect(try await repository.resolve(tokens[0]) == nil)
        #expect(try await repository.resolve(tokens[1]) == nil)
        for token in tokens[2...] { #expect(try await repository.resolve(token) != nil) }
        let listed = try await repository.sessions(ofUser: "alice").map(\.handle)
        #expect(listed == tokens[2...].reversed().map(\.handle))
    }

    @Test func rotateKillsTheOldTokenAndKeepsTheSession() async throws {
        let repository = self.repository
        let issued = try await repository.create(self.newSession())
        let rotated = try #require(try await repository.rotate(issued.token))
        #expect(try await repository.resolve(issued.token) == nil)
        let resolved = try #require(try await repository.resolve(rotated.token))
        #expect(resolved.dataJSON == issued.session.dataJSON)
        #expect(resolved.createdAt == issued.session.createdAt)
        #expect(try await repository.sessions(ofUser: "alice").map(\.handle) == [rotated.token.handle])
        #expect(try await repository.rotate(issued.token) == nil)
    }

    @Test func updateChecksTheVersion() async throws {
        let repository = self.repository
        let issued = try await repository.create(self.newSession())
        let updated = try await repository.update(issued.token, expectedVersion: 1) { _ in Array(#"{"b":2}"#.utf8) }
        #expect(updated?.version == 2)
        await #expect(throws: SessionStoreError.versionMismatch) {
            try await repository.update(issued.token, expectedVersion: 1) { _ in Array("{}".utf8) }
        }
        #expect(try await repository.resolve(issued.token)?.dataJSON == Array(#"{"b":2}"#.utf8))
    }

    @Test func purgeKeepsTheExceptedSession() async throws {
        let repository = self.repository
        let keep = try await repository.create(self.newSession())
        _ = try await repository.create(self.newSession())
        _ = try await repository.create(self.newSession())
        let other = try await repository.create(self.newSession("bob"))
        #expect(try await repository.purge(user: "alice", except: keep.token.handle) == 2)
        #expect(try await repository.resolve(keep.token) != nil)
        #expect(try await repository.resolve(other.token) != nil)
        #expect(try await repository.purge(user: "alice", except: nil) == 1)
        #expect(try await repository.sessions(ofUser: "alice").isEmpty)
    }

    @Test func corruptRecordReadsAsAbsent() async throws {
        let repository = self.repository
        let issued = try await repository.create(self.newSession())
        repository.overwriteRecord(issued.token.handle, with: Array("S1garbage".utf8))
        #expect(try await repository.resolve(issued.token) == nil)
    }
}
