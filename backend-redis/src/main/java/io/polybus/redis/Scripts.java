package io.polybus.redis;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisNoScriptException;

/**
 * The Lua scripts. Each runs atomically on the server, which is what makes the multi-key steps
 * (park a retry, move it back, dead-letter and ack) all-or-nothing: a client that dies before or
 * after a script leaves either the old or the new state, never half of it. Times come from the
 * server's clock ({@code TIME}), so that members on machines with different clocks agree on when a
 * retry is due. Thread-safe.
 *
 * <p>A reserved consumer name ({@link #PARKING}) owns parked retries in the pending list: they stay
 * pending (not lost, delivery count kept) but no member's reclaim takes them before they are due.
 */
final class Scripts {
  /** The consumer that owns delayed retries while they wait; never a real member. */
  static final String PARKING = "polybus-parked";

  /**
   * The consumer that owns what a closed member of a partitioned group left, until the partition's
   * next owner.
   */
  static final String ORPHANED = "polybus-orphaned";

  private static final String NOW =
      "local t = redis.call('TIME')\n"
          + "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n";

  /**
   * Parks records for a delayed retry. KEYS: stream, delayed set. ARGV: group, parking consumer,
   * delay ms, ids... An id no longer pending (acked meanwhile, trimmed) is skipped. JUSTID keeps
   * the delivery count unchanged.
   */
  static final Script PARK =
      new Script(
          NOW
              + "local due = now + tonumber(ARGV[3])\n"
              + "local n = 0\n"
              + "for i = 4, #ARGV do\n"
              + "  local c = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')\n"
              + "  if #c > 0 then redis.call('ZADD', KEYS[2], due, ARGV[i]); n = n + 1 end\n"
              + "end\n"
              + "return n\n");

  /**
   * Moves due retries to a member. KEYS: stream, delayed set. ARGV: group, consumer, max, parking
   * consumer. Returns {id, fields, deliveryCount} triples. The removal from the set and the claim
   * happen together, so a member dying around the script either left the retry parked or owns it
   * (and its reclaim gives it on).
   */
  static final Script MOVE_DUE =
      new Script(
          NOW
              + "local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))\n"
              + "local out = {}\n"
              + "for _, id in ipairs(ids) do\n"
              + "  redis.call('ZREM', KEYS[2], id)\n"
              + "  local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)\n"
              + "  if #p > 0 and p[1][2] == ARGV[4] then\n"
              + "    local e = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id)\n"
              + "    if type(e[1]) == 'table' then out[#out + 1] = {e[1][1], e[1][2], p[1][4] + 1} end\n"
              + "  end\n"
              + "end\n"
              + "return out\n");

  /**
   * Schedules a message published with a delay. KEYS: the stream's scheduled set. ARGV: delay ms,
   * the packed member ({@link EntryLayout#pack}: a random nonce, so that two publishes of one
   * message stay two, then the entry's fields). Due by the server's clock.
   */
  static final Script SCHEDULE =
      new Script(NOW + "return redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[2])\n");

  /**
   * Adds the due scheduled messages of a stream to it, in due order, each removed from the set in
   * the same step, so a client dying around the script leaves each either scheduled or added, never
   * both or neither. KEYS: stream, scheduled set. ARGV: max, then the XADD trim arguments. Returns
   * how many were added.
   */
  static final Script RELEASE_SCHEDULED =
      new Script(
          NOW
              + "local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))\n"
              + "for _, m in ipairs(due) do\n"
              + "  local args = {KEYS[1]}\n"
              + "  for i = 2, #ARGV do args[#args + 1] = ARGV[i] end\n"
              + "  args[#args + 1] = '*'\n"
              + "  local pos, first = 1, true\n"
              + "  while pos <= #m do\n"
              + "    local c = string.find(m, ':', pos, true)\n"
              + "    local n = tonumber(string.sub(m, pos, c - 1))\n"
              + "    if not first then args[#args + 1] = string.sub(m, c + 1, c + n) end\n"
              + "    first = false\n"
              + "    pos = c + n + 1\n"
              + "  end\n"
              + "  redis.call('XADD', unpack(args))\n"
              + "  redis.call('ZREM', KEYS[2], m)\n"
              + "end\n"
              + "return #due\n");

  /**
   * Claims pending entries of other members. KEYS: stream. ARGV: group, consumer, min idle ms,
   * cursor, count, parking consumer. Skips parked retries and this member's own entries. Returns
   * {next cursor or '', triples}. XCLAIM with a min idle time claims nothing another member claimed
   * in between.
   */
  static final Script CLAIM =
      new Script(
          ""
              + "local count = tonumber(ARGV[5])\n"
              + "local p = redis.call('XPENDING', KEYS[1], ARGV[1], 'IDLE', tonumber(ARGV[3]), ARGV[4], '+', count)\n"
              + "local out = {}\n"
              + "local last = nil\n"
              + "for _, e in ipairs(p) do\n"
              + "  last = e[1]\n"
              + "  if e[2] ~= ARGV[6] and e[2] ~= ARGV[2] then\n"
              + "    local c = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]), e[1])\n"
              + "    if type(c[1]) == 'table' then out[#out + 1] = {c[1][1], c[1][2], e[4] + 1} end\n"
              + "  end\n"
              + "end\n"
              + "local nextc = ''\n"
              + "if #p >= count then nextc = '(' .. last end\n"
              + "return {nextc, out}\n");

  /**
   * Resets the idle time of everything a live member holds, so that no other member's reclaim
   * mistakes a slow handler for a dead member. KEYS: stream. ARGV: group, consumer. JUSTID:
   * delivery counts unchanged.
   */
  static final Script TOUCH =
      new Script(
          ""
              + "local p = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 100000, ARGV[2])\n"
              + "local i = 1\n"
              + "while i <= #p do\n"
              + "  local args = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0}\n"
              + "  local j = i\n"
              + "  while j <= #p and j < i + 1000 do args[#args + 1] = p[j][1]; j = j + 1 end\n"
              + "  args[#args + 1] = 'JUSTID'\n"
              + "  redis.call(unpack(args))\n"
              + "  i = j\n"
              + "end\n"
              + "return #p\n");

  /**
   * A member leaves: whatever it still holds goes to {@code target} (JUSTID: counts kept) and, when
   * ARGV[4] is 1, into the delayed set due now, so another member's next poll takes it. Then the
   * consumer is deleted (it holds nothing any more, so nothing is lost with it). KEYS: stream,
   * delayed set. ARGV: group, consumer, target, park, then (id, delivery count) pairs of deliveries
   * no handler started.
   *
   * <p>Those pairs go first, with their counter one lower ({@code RETRYCOUNT} sets it, and wins
   * over JUSTID): the next takeover or move reports the counter plus one, so their next delivery
   * counts the same as this one. Only an entry still pending at this consumer with exactly that
   * count is lowered: never one another member reclaimed meanwhile, and never one whose counter
   * moved since this delivery (attempts noted in place), which then counts as before. All of it is
   * one script, so the given-back entries reach {@code target} together with the rest, and its next
   * owner takes them in id order as before.
   */
  static final Script LEAVE =
      new Script(
          NOW
              + "for i = 5, #ARGV - 1, 2 do\n"
              + "  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2])\n"
              + "  if #p > 0 and p[1][4] == tonumber(ARGV[i + 1]) and p[1][4] > 0 then\n"
              + "    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[i], 'RETRYCOUNT', p[1][4] - 1, 'JUSTID')\n"
              + "    if ARGV[4] == '1' then redis.call('ZADD', KEYS[2], now, ARGV[i]) end\n"
              + "  end\n"
              + "end\n"
              + "local rounds = 0\n"
              + "while rounds < 1000 do\n"
              + "  rounds = rounds + 1\n"
              + "  local p = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1000, ARGV[2])\n"
              + "  if #p == 0 then break end\n"
              + "  local args = {'XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0}\n"
              + "  for _, e in ipairs(p) do args[#args + 1] = e[1] end\n"
              + "  args[#args + 1] = 'JUSTID'\n"
              + "  redis.call(unpack(args))\n"
              + "  if ARGV[4] == '1' then\n"
              + "    for _, e in ipairs(p) do redis.call('ZADD', KEYS[2], now, e[1]) end\n"
              + "  end\n"
              + "end\n"
              + "redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])\n"
              + "return 1\n");

  /**
   * Dead-letters: adds the dead letter to its stream and acks the original, in one step. KEYS:
   * dead-letter stream, source stream. ARGV: group, original entry id, then the dead letter's
   * field/value pairs. Returns the new id.
   */
  static final Script DEAD_LETTER =
      new Script(
          ""
              + "local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))\n"
              + "redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])\n"
              + "return id\n");

  /** Renews a lease if this member holds it. KEYS: lease. ARGV: member, ttl ms. 1 if held. */
  static final Script RENEW =
      new Script(
          ""
              + "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]); return 1 end\n"
              + "return 0\n");

  /** Gives a lease up if this member holds it. KEYS: lease. ARGV: member. */
  static final Script RELEASE_LEASE =
      new Script(
          ""
              + "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]); return 1 end\n"
              + "return 0\n");

  /**
   * Notes a member alive and counts the live ones. KEYS: members set. ARGV: member, ttl ms, leave
   * ('1' removes).
   */
  static final Script MEMBERS =
      new Script(
          NOW
              + "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)\n"
              + "if ARGV[3] == '1' then redis.call('ZREM', KEYS[1], ARGV[1]) else\n"
              + "  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])\n"
              + "  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)\n"
              + "end\n"
              + "return redis.call('ZCARD', KEYS[1])\n");

  /**
   * The lag of one group on a topic's streams, read atomically. KEYS: the streams. ARGV: group.
   * Returns the server's time in ms, then for each stream {state, pending, undelivered, oldest id
   * or '', last delivered id}: state 0 no stream, 1 no such group, 2 the group's figures, 3 the
   * group's pending figure but not its undelivered one ({@code lag} unknown after a deletion: the
   * caller counts with {@link #COUNT_AFTER} from the last delivered id). Undelivered is the group's
   * {@code lag} unless the stream's first entry is newer than the last delivered id (trimmed past
   * it: the entries left are all undelivered, while Redis's {@code lag} still counts the trimmed
   * ones) or nothing follows the last delivered id. Parked retries are pending at the parking
   * consumer, so {@code pending} includes them.
   */
  static final Script LAG =
      new Script(
          NOW
              + "local function older(a, b)\n"
              + "  local am, as = string.match(a, '^(%d+)-(%d+)$')\n"
              + "  local bm, bs = string.match(b, '^(%d+)-(%d+)$')\n"
              + "  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)\n"
              + "  return am < bm or (am == bm and as < bs)\n"
              + "end\n"
              + "local out = {now}\n"
              + "for _, key in ipairs(KEYS) do\n"
              + "  local state, pending, undelivered, oldest, last = 0, 0, 0, '', ''\n"
              + "  if redis.call('TYPE', key)['ok'] == 'stream' then\n"
              + "    local len = redis.call('XLEN', key)\n"
              + "    local first = ''\n"
              + "    if len > 0 then first = redis.call('XRANGE', key, '-', '+', 'COUNT', 1)[1][1] end\n"
              + "    local info = nil\n"
              + "    for _, g in ipairs(redis.call('XINFO', 'GROUPS', key)) do\n"
              + "      local m = {}\n"
              + "      for j = 1, #g, 2 do m[g[j]] = g[j + 1] end\n"
              + "      if m['name'] == ARGV[1] then info = m end\n"
              + "    end\n"
              + "    if info == nil then\n"
              + "      state = 1\n"
              + "    else\n"
              + "      state, pending, last = 2, info['pending'], info['last-delivered-id']\n"
              + "      if pending > 0 then oldest = redis.call('XPENDING', key, ARGV[1])[2] end\n"
              + "      local next = ''\n"
              + "      if len == 0 then\n"
              + "        undelivered = 0\n"
              + "      elseif older(last, first) then\n"
              + "        undelivered, next = len, first\n"
              + "      else\n"
              + "        local r = redis.call('XRANGE', key, '(' .. last, '+', 'COUNT', 1)\n"
              + "        if #r == 0 then\n"
              + "          undelivered = 0\n"
              + "        else\n"
              + "          next = r[1][1]\n"
              + "          if info['lag'] then undelivered = math.min(info['lag'], len) else state = 3 end\n"
              + "        end\n"
              + "      end\n"
              + "      if next ~= '' and (oldest == '' or older(next, oldest)) then oldest = next end\n"
              + "    end\n"
              + "  end\n"
              + "  table.insert(out, {state, pending, undelivered, oldest, last})\n"
              + "end\n"
              + "return out\n");

  /**
   * Counts the entries after an id, a page at a time (the rare path of {@link #LAG}). KEYS: stream.
   * ARGV: exclusive start id, page size. Returns {count, last id counted or the start id}.
   */
  static final Script COUNT_AFTER =
      new Script(
          "local r = redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', tonumber(ARGV[2]))\n"
              + "if #r == 0 then return {0, ARGV[1]} end\n"
              + "return {#r, r[#r][1]}\n");

  private Scripts() {}

  /**
   * One script: its source and SHA-1, run by EVALSHA with a fallback to EVAL when the server forgot
   * it.
   */
  static final class Script {
    final byte[] source;
    final byte[] sha;

    Script(String source) {
      this.source = source.getBytes(StandardCharsets.UTF_8);
      try {
        this.sha =
            HexFormat.of()
                .formatHex(MessageDigest.getInstance("SHA-1").digest(this.source))
                .getBytes(StandardCharsets.US_ASCII);
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }

    Object run(UnifiedJedis redis, List<byte[]> keys, List<byte[]> args) {
      try {
        return redis.evalsha(sha, keys, args);
      } catch (JedisNoScriptException e) {
        // A restarted (or flushed) server forgot its scripts: EVAL loads it again.
        return redis.eval(source, keys, args);
      }
    }
  }
}
