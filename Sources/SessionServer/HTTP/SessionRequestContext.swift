import Hummingbird
import NIOConcurrencyHelpers

/// Per-request state: Hummingbird's core context plus the authenticated caller.
public struct SessionRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Who is calling (set by ``ErrorAndLogMiddleware`` from a Bearer key or access token).
    public var caller: Caller?
    /// The peer's IP address (the per-address brute-force limit of the token endpoint).
    public let remoteAddress: String?
    /// A caller a route authenticated itself (HTTP Basic on `/oauth2/*`), for the request's log line.
    let reportedCaller: CallerReport

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.caller = nil
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
        self.reportedCaller = CallerReport()
    }

    /// Throws 403 unless the caller has `scope`.
    func require(_ scope: Scope, named name: String) throws {
        guard let caller = self.caller else { throw SessionAPIError.unauthorized }
        guard caller.scopes.contains(scope) else { throw SessionAPIError.forbidden(name) }
    }
}

/// Shared by every copy of one request's context: the name of a caller authenticated below the
/// logging middleware.
final class CallerReport: Sendable {
    private let name = NIOLockedValueBox<String?>(nil)
    var value: String? {
        get { self.name.withLockedValue { $0 } }
        set { self.name.withLockedValue { $0 = newValue } }
    }
}
