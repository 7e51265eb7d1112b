import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

extension APIKeys {
    /// The keys in the file at `path`; refused with a one-line reason (never a secret) when the file
    /// cannot be read, holds no key or breaks a rule of ``init(parsing:)``.
    public static func load(path: String) throws(ConfigurationError) -> APIKeys {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError("cannot read the API keys file \(path)")
        }
        let keys = try APIKeys(parsing: text)
        if keys.isEmpty { throw ConfigurationError("the API keys file \(path) holds no key") }
        return keys
    }

    /// A warning when the file at `path` can be read by users other than its owner (secrets in it are
    /// then as good as published on that machine); nil when it cannot.
    public static func permissionWarning(path: String) -> String? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue
        else { return nil }
        guard mode & 0o044 != 0 else { return nil }
        return "the API keys file \(path) is readable by other users (mode \(String(mode & 0o777, radix: 8))); chmod 600 it"
    }
}

/// A service that reloads a file each time the process gets `SIGHUP`, until graceful shutdown.
public protocol ReloadedOnHangup: Service {
    /// Loads the file again; the outcome is logged either way.
    func reload()
}

extension ReloadedOnHangup {
    public func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            self.reload()
        }
    }
}

/// Reloads the API keys file on `SIGHUP`: the new keys replace the old ones at once, so requests in
/// flight and new ones never see a gap. A file that cannot be loaded keeps the old keys and says why.
public struct APIKeyReloader: ReloadedOnHangup {
    let keys: APIKeys
    let path: String
    let logger: Logger

    /// A reloader of `path` into `keys`.
    public init(keys: APIKeys, path: String, logger: Logger) {
        self.keys = keys
        self.path = path
        self.logger = logger
    }

    /// Loads the file again; the outcome is logged either way.
    public func reload() {
        do {
            let fresh = try APIKeys.load(path: self.path)
            self.keys.replace(with: fresh)
            self.logger.notice("API keys reloaded", metadata: ["api_keys.count": "\(fresh.count)"])
            if let warning = APIKeys.permissionWarning(path: self.path) { self.logger.warning("\(warning)") }
        } catch {
            self.logger.error("API keys file refused; the previous keys stay in force", metadata: ["reason": "\(error.reason)"])
        }
    }
}
