import Hummingbird

/// Per-request state: Hummingbird's core context plus the authenticated caller.
public struct SessionRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The API key that authenticated this request (set by ``ErrorAndLogMiddleware`` for `/v1`).
    public var apiKey: APIKey?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.apiKey = nil
    }

    /// Throws 403 unless the caller's key has `scope`.
    func require(_ scope: Scope, named name: String) throws {
        guard let apiKey = self.apiKey else { throw SessionAPIError.unauthorized }
        guard apiKey.scopes.contains(scope) else { throw SessionAPIError.forbidden(name) }
    }
}
