/// A Redis server version, as `INFO server` reports it in `redis_version` (Valkey reports the Redis
/// version it is compatible with there too).
public struct RedisServerVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Major, minor and patch numbers.
    public let major: Int, minor: Int, patch: Int

    /// A version from its numbers.
    public init(_ major: Int, _ minor: Int, _ patch: Int = 0) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// The `redis_version` line of an `INFO` reply, or nil when there is none or it is malformed.
    public init?(info: String) {
        guard let line = info.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("redis_version:") }) else {
            return nil
        }
        let numbers = line.dropFirst("redis_version:".count).split(separator: ".").map { Int($0) }
        guard numbers.count >= 2, let major = numbers[0], let minor = numbers[1] else { return nil }
        self.init(major, minor, numbers.count > 2 ? numbers[2] ?? 0 : 0)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
    }

    public var description: String { "\(self.major).\(self.minor).\(self.patch)" }
}
