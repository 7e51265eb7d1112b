import Foundation

/// An IPv4 or IPv6 address as its bytes (4 or 16). An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`,
/// what a dual-stack socket reports for an IPv4 peer) is its IPv4 address.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 (IPv6), network order.
    public let bytes: [UInt8]

    /// Parses dotted IPv4 or any textual IPv6 form (`inet_pton`); nil for anything else, ports and
    /// zone ids included.
    public init?(_ text: some StringProtocol) {
        let text = String(text)
        guard !text.isEmpty, text.utf8.count <= 45 else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self.bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            self.bytes = Array(bytes[12..<16])
        } else {
            self.bytes = bytes
        }
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    public var isIPv4: Bool { self.bytes.count == 4 }

    /// The canonical text (`inet_ntop`): one address has one spelling.
    public var description: String {
        var buffer = [CChar](repeating: 0, count: 64)
        var bytes = self.bytes
        let family = self.isIPv4 ? AF_INET : AF_INET6
        guard inet_ntop(family, &bytes, &buffer, socklen_t(buffer.count)) != nil else { return "invalid" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The first `bits` bits, the rest zero.
    func masked(to bits: Int) -> IPAddress {
        var bytes = self.bytes
        for index in bytes.indices {
            let kept = max(0, min(8, bits - index * 8))
            bytes[index] &= kept == 8 ? 0xFF : ~(0xFF >> kept)
        }
        return IPAddress(bytes: bytes)
    }
}

/// An address with a prefix length: `10.0.0.0/8`, `fd00::/8`, or one address (`192.0.2.7`, `::1`).
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    /// Parses `address` or `address/prefix`; nil when either part is malformed or the prefix is out of
    /// range for the family.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { return nil }
        let width = address.bytes.count * 8
        var length = width
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let parsed = Int(parts[1]) else { return nil }
            // A mapped IPv4 network may be written with its IPv6 prefix (::ffff:10.0.0.0/104).
            length = parsed - (parts[0].contains(":") && address.isIPv4 ? 96 : 0)
            guard (0...width).contains(length) else { return nil }
        }
        self.address = address.masked(to: length)
        self.prefixLength = length
    }

    public func contains(_ address: IPAddress) -> Bool {
        address.bytes.count == self.address.bytes.count && address.masked(to: self.prefixLength) == self.address
    }

    public var description: String { "\(self.address)/\(self.prefixLength)" }
}

/// Which address a request comes from, for the per-address brute-force limit of the token endpoint.
///
/// The TCP peer, unless the peer is a trusted proxy (`--trusted-proxies`): then `X-Forwarded-For` is
/// read from the right, skipping trusted proxies, and the first address that is not one is the
/// client. Entries to its left were written by the client and are never believed (an attacker sends
/// a fresh `X-Forwarded-For` with every attempt). An entry that is not an address stops the walk at
/// the last trusted hop. IPv6 clients are counted per /64, the block one subscriber usually holds.
public struct ClientAddressPolicy: Sendable {
    /// Proxies whose `X-Forwarded-For` is believed; empty (the default) believes nobody.
    public var trustedProxies: [IPNetwork]

    public init(trustedProxies: [IPNetwork] = []) {
        self.trustedProxies = trustedProxies
    }

    /// At most this many `X-Forwarded-For` entries are read (from the right).
    static let maximumHops = 32

    /// The subject counted for `peer` (as the socket reports it) and the `X-Forwarded-For` field values
    /// in order; "unknown" without a peer.
    public func client(peer: String?, forwardedFor: [String]) -> String {
        guard let peer, let peerAddress = IPAddress(peer) else { return "unknown" }
        var client = peerAddress
        if self.isTrusted(peerAddress), !forwardedFor.isEmpty {
            let hops = forwardedFor.flatMap { $0.split(separator: ",") }.suffix(Self.maximumHops)
            for hop in hops.reversed() {
                guard let address = IPAddress(hop.trimmingCharacters(in: .whitespaces)) else { break }
                client = address
                if !self.isTrusted(address) { break }
            }
        }
        return client.isIPv4 ? client.description : "\(client.masked(to: 64))/64"
    }

    private func isTrusted(_ address: IPAddress) -> Bool {
        self.trustedProxies.contains { $0.contains(address) }
    }
}
