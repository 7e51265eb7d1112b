import RedisWire

/// The Lua scripts behind ``RedisSessionRepository``: one script, one round trip, one hash slot.
///
/// Times come from the Redis server's `TIME`, so every sessiond replica agrees on the clock. Record
/// offsets are those of ``SessionRecordCodec`` (Lua strings are 1-based). The invariants every script
/// keeps, whatever the order of operations (tested in `KeyLifetimeTests`):
/// - no key without a TTL: a record gets `PX` when written; an index gets its TTL whenever a script
///   adds to it (`index_add` raises it to at least the new session's remaining absolute lifetime);
/// - no TTL past a deadline: a record's TTL is `min(idle deadline, absolute deadline) - now`; an
///   index's is the latest absolute deadline of a session added to it;
/// - a key of another Redis type under our names is corruption, not an outage: record keys read as
///   absent (the scripts answer `+CORRUPT`, sessiond logs the handle once), an index of another type
///   is replaced before anything is added to it.
enum SessionScripts {
    /// Shared prologue: `now` in ms, a record's deadlines, and the helpers for records and indexes.
    private static let prologue = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        -- last_seen, idle, expires of a schema-2 record; nil for anything else.
        local function times(v)
          if #v < 37 or string.byte(v, 1) ~= 2 then return nil end
          local _, last, idle, exp = struct.unpack('>I6I6I6I6', v, 2)
          return last, idle, exp
        end
        -- The record at key; the second result is true when the key holds another type.
        local function fetch(key)
          local v = redis.pcall('GET', key)
          if type(v) == 'table' and v.err then return nil, true end
          return v, false
        end
        -- The user's index key, derived from the user_id JSON that opens the body.
        local function index_key(prefix, v)
          local nl = string.find(v, '\\n', 34, true)
          if not nl then return nil end
          return prefix .. string.sub(redis.sha1hex(string.sub(v, 34, nl - 1)), 1, 24)
        end
        -- Whether this node serves the index key. During a slot migration the record can already be on
        -- the importing node while the index is still on the other: checked before any write, so a
        -- script never deletes a record and then fails on its index (Lua does not roll back).
        local function index_here(index)
          local probe = redis.pcall('EXISTS', index)
          return not (type(probe) == 'table' and probe.err)
        end
        -- Drops an index key that holds another type; true when it did.
        local function index_repair(index)
          local kind = redis.call('TYPE', index)['ok']
          if kind == 'zset' or kind == 'none' then return false end
          redis.call('DEL', index)
          return true
        end
        -- The score after the newest member: creation order, unique, small (compact in a listpack).
        local function next_score(index)
          local newest = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
          if newest[2] then return tonumber(newest[2]) + 1 end
          return 1
        end
        -- Adds member and keeps the index alive at least ttl ms (never lowers it; a key without a TTL gets one).
        local function index_add(index, member, score, ttl)
          redis.call('ZADD', index, score, member)
          if redis.call('PTTL', index) < ttl then redis.call('PEXPIRE', index, ttl) end
        end
        """

    /// KEYS[1] record, KEYS[2] user index. ARGV: tail, idle ms, absolute ms, max per user, digest, record key prefix.
    /// Returns {created_at, evicted, 1 if a corrupt index was replaced}.
    ///
    /// Safe to send again (after a timeout or a failover left the outcome unknown): the record key is
    /// a fresh random token's, so finding it already holding this very tail means the first send ran,
    /// and the answer is that create's.
    static let create = RedisScript(
        prologue + """

        local idle = tonumber(ARGV[2])
        local abs = tonumber(ARGV[3])
        local repaired = index_repair(KEYS[2]) and 1 or 0
        local header = struct.pack('>BI6I6I6I6', 2, now, now, idle, now + abs)
        if not redis.call('SET', KEYS[1], header .. ARGV[1], 'PX', math.min(idle, abs), 'NX') then
          local existing = redis.pcall('GET', KEYS[1])
          if type(existing) == 'string' and #existing > 25 and string.sub(existing, 26) == ARGV[1] then
            local created = struct.unpack('>I6', existing, 2)
            return {created, 0, 0}
          end
          return redis.error_reply('ERR session key collision')
        end
        index_add(KEYS[2], ARGV[5], next_score(KEYS[2]), abs)
        local max = tonumber(ARGV[4])
        local count = redis.call('ZCARD', KEYS[2])
        local evicted = 0
        if count > max then
          for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
            if redis.call('EXISTS', ARGV[6] .. m) == 0 then
              redis.call('ZREM', KEYS[2], m)
              count = count - 1
            end
          end
          if count > max then
            for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, count - max - 1)) do
              redis.call('DEL', ARGV[6] .. m)
              redis.call('ZREM', KEYS[2], m)
              evicted = evicted + 1
            end
          end
        end
        return {now, evicted, repaired}
        """
    )

    /// KEYS[1] record. ARGV[1] touch interval ms. Returns the record (touched if due by the Redis
    /// clock), nil, or `+CORRUPT`. Resolve calls it only when its `GET` saw a touch was due.
    ///
    /// A touch is due after `min(touch interval, idle timeout / 2)`, so a session used more often than
    /// its idle timeout stays alive whatever the timeout. It rewrites the 6 bytes of `last_seen_at`
    /// (`SETRANGE`) and the TTL, never the whole record, so replicas and the AOF see a few bytes.
    static let touch = RedisScript(
        prologue + """

        local v, wrong = fetch(KEYS[1])
        if wrong then return {ok='CORRUPT'} end
        if not v then return false end
        local last, idle, exp = times(v)
        if not last then return v end
        if now >= exp or now >= last + idle then
          redis.call('DEL', KEYS[1])
          return false
        end
        if now - last >= math.min(tonumber(ARGV[1]), math.floor(idle / 2)) then
          local stamp = struct.pack('>I6', now)
          redis.call('SETRANGE', KEYS[1], 7, stamp)
          redis.call('PEXPIRE', KEYS[1], math.min(now + idle, exp) - now)
          v = string.sub(v, 1, 7) .. stamp .. string.sub(v, 14)
        end
        return v
        """
    )

    /// KEYS[1] record. ARGV[1] expected version (4 bytes), ARGV[2] new tail.
    /// Returns the new record, {'conflict'} when the version moved, nil, or `+CORRUPT`.
    static let update = RedisScript(
        prologue + """

        local v, wrong = fetch(KEYS[1])
        if wrong then return {ok='CORRUPT'} end
        if not v then return false end
        local last, idle, exp = times(v)
        if not last then return false end
        if now >= exp or now >= last + idle then return false end
        if string.sub(v, 26, 29) ~= ARGV[1] then return {'conflict'} end
        v = string.sub(v, 1, 25) .. ARGV[2]
        redis.call('SET', KEYS[1], v, 'KEEPTTL')
        return v
        """
    )

    /// KEYS[1] old record, KEYS[2] new record. ARGV: index key prefix, old digest, new digest.
    /// Returns the record under its new key, nil, or `+CORRUPT`. The new digest joins the index
    /// before the old one leaves, so a user's only session never leaves an empty (deleted) index behind
    /// that a later `ZADD` would recreate without a TTL.
    ///
    /// Safe to send again: when the old key is gone and the new one (a fresh random token's) exists,
    /// the first send ran, and the answer is the new record.
    static let rotate = RedisScript(
        prologue + """

        local v, wrong = fetch(KEYS[1])
        if wrong then return {ok='CORRUPT'} end
        if not v then
          local done = redis.pcall('GET', KEYS[2])
          if type(done) == 'string' and times(done) then return done end
          return false
        end
        local last, idle, exp = times(v)
        if not last then return false end
        local index = index_key(ARGV[1], v)
        if not index then return false end
        if not index_here(index) then return redis.error_reply('TRYAGAIN the user index is being migrated') end
        redis.call('DEL', KEYS[1])
        if now >= exp or now >= last + idle then
          redis.pcall('ZREM', index, ARGV[2])
          return false
        end
        index_repair(index)
        v = string.sub(v, 1, 7) .. struct.pack('>I6', now) .. string.sub(v, 14)
        if not redis.call('SET', KEYS[2], v, 'PX', math.min(now + idle, exp) - now, 'NX') then
          return redis.error_reply('ERR session key collision')
        end
        local score = redis.call('ZSCORE', index, ARGV[2])
        index_add(index, ARGV[3], score or next_score(index), exp - now)
        redis.call('ZREM', index, ARGV[2])
        return v
        """
    )

    /// KEYS[1] record. ARGV: index key prefix, digest. Returns 1 if a session was destroyed, 0, or `+CORRUPT`.
    static let destroy = RedisScript(
        """
        local v = redis.pcall('GET', KEYS[1])
        if type(v) == 'table' and v.err then return {ok='CORRUPT'} end
        if not v then return 0 end
        local nl = string.byte(v, 1) == 2 and #v > 37 and string.find(v, '\\n', 34, true)
        local index = nl and ARGV[1] .. string.sub(redis.sha1hex(string.sub(v, 34, nl - 1)), 1, 24)
        if index then
          local probe = redis.pcall('EXISTS', index)
          if type(probe) == 'table' and probe.err then return redis.error_reply('TRYAGAIN the user index is being migrated') end
        end
        redis.call('DEL', KEYS[1])
        if index then redis.pcall('ZREM', index, ARGV[2]) end
        return 1
        """
    )

    /// KEYS[1] user index. ARGV[1] record key prefix. Returns {digest, record, …}, newest first, or
    /// `+CORRUPT` when the index holds another type; prunes digests whose record is gone. A record key
    /// of another type comes back as `+CORRUPT` in place of its record.
    static let list = RedisScript(
        """
        local kind = redis.call('TYPE', KEYS[1])['ok']
        if kind == 'none' then return {} end
        if kind ~= 'zset' then return {ok='CORRUPT'} end
        local out = {}
        for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1, 'REV')) do
          local v = redis.pcall('GET', ARGV[1] .. m)
          if type(v) == 'table' and v.err then
            out[#out + 1] = m
            out[#out + 1] = {ok='CORRUPT'}
          elseif v then
            out[#out + 1] = m
            out[#out + 1] = v
          else
            redis.call('ZREM', KEYS[1], m)
          end
        end
        return out
        """
    )

    /// KEYS[1] user index. ARGV: record key prefix, digest to keep ('' for none). Returns how many were
    /// destroyed. An index of another type is deleted (nothing it names can be found).
    static let purge = RedisScript(
        """
        local kind = redis.call('TYPE', KEYS[1])['ok']
        if kind ~= 'zset' then
          if kind ~= 'none' then redis.call('DEL', KEYS[1]) end
          return 0
        end
        local destroyed = 0
        local kept = false
        for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
          if m == ARGV[2] then
            kept = true
          else
            destroyed = destroyed + redis.call('DEL', ARGV[1] .. m)
            redis.call('ZREM', KEYS[1], m)
          end
        end
        if not kept then redis.call('DEL', KEYS[1]) end
        return destroyed
        """
    )

    static let all = [create, touch, update, rotate, destroy, list, purge]
}
