import Crypto

/// Bytes from a cryptographically secure generator.
public enum SecureRandom {
    /// `count` random bytes from swift-crypto's CSPRNG (BoringSSL's `RAND_bytes` on Linux, seeded by
    /// the kernel). Filling a buffer byte by byte from `SystemRandomNumberGenerator` cost one system
    /// call per byte: 17 % of a create's CPU.
    public static func bytes(_ count: Int) -> [UInt8] {
        SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Array($0) }
    }
}
