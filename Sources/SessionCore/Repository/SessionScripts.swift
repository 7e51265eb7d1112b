import RedisWire

/// The Lua scripts behind ``RedisSessionRepository``: one script, one round trip, one hash slot.
///
/// Times come from the Redis server's `TIME`, so every sessiond replica agrees on the clock.
/// Record offsets are those of ``SessionRecordCodec`` (Lua strings are 1-based).
enum SessionScripts {
    /// Shared prologue: `now` in ms and a record's deadlines.
    private static let prologue = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local function times(v)
          if string.sub(v, 1, 2) ~= 'S1' then return nil end
          local last = tonumber(string.sub(v, 16, 28))
          local idle = tonumber(string.sub(v, 29, 41))
          local exp = tonumber(string.sub(v, 42, 54))
          if not last or not idle or not exp then return nil end
          return last, idle, exp
        end
        local function stamped(v)
          return string.sub(v, 1, 15) .. string.format('%013d', now) .. string.sub(v, 29)
        end
        """

    /// KEYS[1] record, KEYS[2] user index. ARGV: tail, idle ms, absolute ms, max per user, digest, record key prefix.
    /// Returns {now, evicted}.
    static let create = RedisScript(
        prologue + """

        local idle = tonumber(ARGV[2])
        local abs = tonumber(ARGV[3])
        local header = 'S1' .. string.format('%013d%013d%013d%013d', now, now, idle, now + abs)
        if not redis.call('SET', KEYS[1], header .. ARGV[1], 'PX', math.min(idle, abs), 'NX') then
          return redis.error_reply('ERR session key collision')
        end
        local score = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local newest = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
        if newest[2] and tonumber(newest[2]) >= score then score = tonumber(newest[2]) + 1 end
        redis.call('ZADD', KEYS[2], string.format('%.0f', score), ARGV[5])
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
        -- The index lives as long as its longest-lived session: a new index gets the TTL, an existing
        -- one only ever has it extended (GT).
        if count == 1 then redis.call('PEXPIRE', KEYS[2], abs) else redis.call('PEXPIRE', KEYS[2], abs, 'GT') end
        return {now, evicted}
        """
    )

    /// KEYS[1] record. ARGV[1] touch interval ms. Returns the record (touched if due by the Redis
    /// clock) or nil. Resolve calls it only when its `GET` saw a touch was due.
    static let touch = RedisScript(
        prologue + """

        local v = redis.call('GET', KEYS[1])
        if not v then return false end
        local last, idle, exp = times(v)
        if not last then return v end
        if now >= exp or now >= last + idle then
          redis.call('DEL', KEYS[1])
          return false
        end
        if now - last >= tonumber(ARGV[1]) then
          v = stamped(v)
          redis.call('SET', KEYS[1], v, 'PX', math.min(now + idle, exp) - now)
        end
        return v
        """
    )

    /// KEYS[1] record. ARGV[1] expected version (10 digits), ARGV[2] new tail.
    /// Returns the new record, {'conflict'} when the version moved, or nil.
    static let update = RedisScript(
        prologue + """

        local v = redis.call('GET', KEYS[1])
        if not v then return false end
        local last, idle, exp = times(v)
        if not last then return false end
        if now >= exp or now >= last + idle then return false end
        if string.sub(v, 55, 64) ~= ARGV[1] then return {'conflict'} end
        v = string.sub(v, 1, 54) .. ARGV[2]
        redis.call('SET', KEYS[1], v, 'KEEPTTL')
        return v
        """
    )

    /// KEYS[1] old record, KEYS[2] new record. ARGV: index key prefix, old digest, new digest.
    /// Returns the record under its new key, or nil.
    static let rotate = RedisScript(
        prologue + """

        local v = redis.call('GET', KEYS[1])
        if not v then return false end
        local last, idle, exp = times(v)
        if not last then return false end
        redis.call('DEL', KEYS[1])
        if now >= exp or now >= last + idle then return false end
        v = stamped(v)
        if not redis.call('SET', KEYS[2], v, 'PX', math.min(now + idle, exp) - now, 'NX') then
          return redis.error_reply('ERR session key collision')
        end
        local index = ARGV[1] .. string.sub(v, 65, 86)
        local score = redis.call('ZSCORE', index, ARGV[2])
        redis.call('ZREM', index, ARGV[2])
        if score then redis.call('ZADD', index, score, ARGV[3]) end
        return v
        """
    )

    /// KEYS[1] record. ARGV: index key prefix, digest. Returns 1 if a session was destroyed.
    static let destroy = RedisScript(
        """
        local v = redis.call('GET', KEYS[1])
        if not v then return 0 end
        redis.call('DEL', KEYS[1])
        if string.sub(v, 1, 2) == 'S1' then
          redis.call('ZREM', ARGV[1] .. string.sub(v, 65, 86), ARGV[2])
        end
        return 1
        """
    )

    /// KEYS[1] user index. ARGV[1] record key prefix. Returns {digest, record, …}, newest first;
    /// prunes digests whose record is gone.
    static let list = RedisScript(
        """
        local out = {}
        for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1, 'REV')) do
          local v = redis.call('GET', ARGV[1] .. m)
          if v then
            out[#out + 1] = m
            out[#out + 1] = v
          else
            redis.call('ZREM', KEYS[1], m)
          end
        end
        return out
        """
    )

    /// KEYS[1] user index. ARGV: record key prefix, digest to keep ('' for none). Returns how many were destroyed.
    static let purge = RedisScript(
        """
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
