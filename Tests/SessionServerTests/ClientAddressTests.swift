import Testing

@testable import SessionServer

@Suite struct ClientAddressTests {
    static let behindProxies = ClientAddressPolicy(trustedProxies: [IPNetwork("10.0.0.0/8")!, IPNetwork("fd00::/8")!])

    @Test func thePeerIsTheClientUnlessItIsATrustedProxy() {
        let nobodyTrusted = ClientAddressPolicy()
        #expect(nobodyTrusted.client(peer: "10.1.2.3", forwardedFor: ["203.0.113.7"]) == "10.1.2.3")
        #expect(Self.behindProxies.client(peer: "192.0.2.1", forwardedFor: ["203.0.113.7"]) == "192.0.2.1")
        #expect(Self.behindProxies.client(peer: "10.1.2.3", forwardedFor: []) == "10.1.2.3")
        #expect(Self.behindProxies.client(peer: nil, forwardedFor: ["203.0.113.7"]) == "unknown")
    }

    @Test func forwardedForIsReadFromTheRightPastTrustedHopsOnly() {
        let policy = Self.behindProxies
        #expect(policy.client(peer: "10.1.2.3", forwardedFor: ["203.0.113.7"]) == "203.0.113.7")
        // The client wrote everything left of the first untrusted hop: never believed.
        #expect(policy.client(peer: "10.1.2.3", forwardedFor: ["198.51.100.1, 203.0.113.7"]) == "203.0.113.7")
        // Two proxies deep, and the field split over two header lines.
        #expect(policy.client(peer: "10.1.2.3", forwardedFor: ["198.51.100.1, 203.0.113.7", " 10.9.9.9 "]) == "203.0.113.7")
        // Only trusted hops: the leftmost is the client.
        #expect(policy.client(peer: "10.1.2.3", forwardedFor: ["10.4.4.4,10.5.5.5"]) == "10.4.4.4")
        // Something that is not an address stops the walk at the last trusted hop.
        #expect(policy.client(peer: "10.1.2.3", forwardedFor: ["203.0.113.7, unknown"]) == "10.1.2.3")
        #expect(policy.client(peer: "10.1.2.3", forwardedFor: ["203.0.113.7, 10.5.5.5, 1.2.3.4:80"]) == "10.1.2.3")
        #expect(policy.client(peer: "10.1.2.3", forwardedFor: ["203.0.113.7, , 10.5.5.5"]) == "10.5.5.5")
    }

    @Test func oneAddressHasOneSubjectAndIPv6CountsPerSlash64() {
        let policy = ClientAddressPolicy()
        #expect(policy.client(peer: "::ffff:192.0.2.1", forwardedFor: []) == "192.0.2.1")
        #expect(policy.client(peer: "2001:DB8:0:0:1::1", forwardedFor: []) == policy.client(peer: "2001:db8::1:0:0:1", forwardedFor: []))
        #expect(policy.client(peer: "2001:db8:1:2:aaaa::1", forwardedFor: []) == "2001:db8:1:2::/64")
        #expect(policy.client(peer: "2001:db8:1:2:bbbb::9", forwardedFor: []) == "2001:db8:1:2::/64")
        #expect(policy.client(peer: "2001:db8:1:3::1", forwardedFor: []) == "2001:db8:1:3::/64")
        #expect(Self.behindProxies.client(peer: "fd00::5", forwardedFor: ["2001:db8:7::1"]) == "2001:db8:7::/64")
    }

    @Test func networksParseStrictly() {
        #expect(IPNetwork("10.0.0.0/8")?.contains(IPAddress("10.255.0.1")!) == true)
        #expect(IPNetwork("10.0.0.0/8")?.contains(IPAddress("11.0.0.1")!) == false)
        #expect(IPNetwork("10.1.2.3")?.contains(IPAddress("10.1.2.4")!) == false)
        #expect(IPNetwork("10.1.2.3/16")?.description == "10.1.0.0/16")
        #expect(IPNetwork("::ffff:10.0.0.0/104")?.description == "10.0.0.0/8")
        #expect(IPNetwork("fd00::/8")?.contains(IPAddress("fdab::1")!) == true)
        #expect(IPNetwork("fd00::/8")?.contains(IPAddress("10.0.0.1")!) == false)
        #expect(IPNetwork("172.16.0.0/12")?.contains(IPAddress("172.31.255.255")!) == true)
        #expect(IPNetwork("172.16.0.0/12")?.contains(IPAddress("172.32.0.0")!) == false)
        for bad in ["", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/+8", "10.0.0.0/8/8", "::/129", "fe80::1%eth0", "1.2.3.4:80", "10.0.0", "example.com", " 10.0.0.1"] {
            #expect(IPNetwork(bad) == nil, "\(bad)")
        }
    }

    @Test func trustingEveryAddressIsRefused() {
        var configuration = SessionServiceConfiguration()
        configuration.clientAddresses = ClientAddressPolicy(trustedProxies: [IPNetwork("0.0.0.0/0")!])
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
        configuration.clientAddresses = ClientAddressPolicy(trustedProxies: [IPNetwork("10.0.0.0/8")!])
        #expect(throws: Never.self) { try configuration.validate() }
    }
}
