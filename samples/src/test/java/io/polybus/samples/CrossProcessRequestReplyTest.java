package io.polybus.samples;

import static java.util.stream.Collectors.joining;
import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.polybus.Instrumentation;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.PolybusTimeoutException;
import io.polybus.SubscribeOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Request-reply across real processes: a requester in this JVM, two responder JVMs competing in one
 * group, and one of them killed with SIGKILL while requests flow.
 *
 * <p>Every request's payload is unique and every reply repeats it with the responder's process id,
 * so a reply handed to the wrong request, or one from a process that cannot have answered, is seen.
 * A request that was in the killed responder's hands may time out, or be answered by the survivor
 * once the backend hands it over; a responder that replied but died before its ack makes the
 * survivor answer again, and the requester must drop that second reply rather than give it to
 * anyone.
 */
@Timeout(120)
class CrossProcessRequestReplyTest {
  private static final String GROUP = "responders";
  private static final int REQUESTS = 400;
  private static final int SENDERS = 4;

  /** The most requests in flight at once, over all senders. */
  private static final int IN_FLIGHT = 48;

  /** Each sender's pause between two requests: about 5 s of traffic, so the kill lands in it. */
  private static final long PACE_MILLIS = 50;

  private static final Duration TIMEOUT = Duration.ofSeconds(4);

  /** Handler threads per responder: enough for the survivor alone to keep up with the senders. */
  private static final int RESPONDER_CONCURRENCY = 16;

  /** The kill waits for this many completed requests, so that it falls mid-stream. */
  private static final int KILL_AFTER = REQUESTS / 4;

  private static final Pattern REPLY = Pattern.compile("re:(q-[0-9a-f]+-([0-9]+)) by ([0-9]+)");

  @TempDir Path dir;

  /**
   * A responder process: {@code <uri> <topic> <group> <ready file>}. Writes its pid to the ready
   * file once it responds, and closes its bus and exits when its standard input ends.
   */
  public static final class ResponderProcess {
    public static void main(String[] args) throws Exception {
      String pid = Long.toString(ProcessHandle.current().pid());
      try (Polybus bus = Polybus.connect(args[0])) {
        bus.respond(
            args[1],
            args[2],
            d -> {
              String q = d.message().payloadAsString();
              System.out.println("start " + q); // what was in its hands when it was killed
              Thread.sleep(work(q));
              return Message.of("re:" + q + " by " + pid);
            },
            SubscribeOptions.builder()
                .ordering(Ordering.NONE)
                .concurrency(RESPONDER_CONCURRENCY)
                .build());
        Path ready = Path.of(args[3]);
        Path tmp = ready.resolveSibling(ready.getFileName() + ".tmp");
        Files.writeString(tmp, pid);
        Files.move(tmp, ready, StandardCopyOption.ATOMIC_MOVE);
        System.out.println("responding as " + pid);
        while (System.in.read() != -1) {
          // the test closes this process's standard input to stop it
        }
      }
      System.out.println("closed");
    }
  }

  /**
   * 30 to 150 ms of work, varying by request: replies come back out of send order, and a responder
   * holds a few requests at any time.
   */
  static long work(String request) {
    return 30 + Math.floorMod(request.hashCode(), 121);
  }

  /** One request's outcome, as its future completed. */
  private record Outcome(long sentNanos, long doneNanos, String reply, Throwable failure) {}

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"log:<dir>?partitions=4", "rabbitmq://guest:guest@127.0.0.1:5672"})
  void shouldAnswerEachRequestWithItsOwnReplyOrATimeoutWhenOneOfTwoResponderProcessesIsKilled(
      String uriTemplate) throws Exception {
    String uri = uriTemplate.replace("<dir>", dir.resolve("log").toString());
    String run = UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    String topic = "rr-xproc-" + run;
    Path logA = dir.resolve("responder-a.log");
    Path logB = dir.resolve("responder-b.log");
    Supplier<String> logs =
        () -> "\nresponder a:\n" + output(logA) + "\nresponder b:\n" + output(logB);
    Process a = responder(uri, topic, dir.resolve("a.ready"), logA);
    Process b = responder(uri, topic, dir.resolve("b.ready"), logB);
    try {
      await(
          Duration.ofSeconds(60),
          () -> Files.exists(dir.resolve("a.ready")) && Files.exists(dir.resolve("b.ready")),
          () -> "both responders to subscribe" + logs.get());
      String pidA = Files.readString(dir.resolve("a.ready"));
      String pidB = Files.readString(dir.resolve("b.ready"));
      assertThat(List.of(pidA, pidB))
          .as("the responders' own pids")
          .containsExactly(Long.toString(a.pid()), Long.toString(b.pid()));

      AtomicReferenceArray<Outcome> outcomes = new AtomicReferenceArray<>(REQUESTS);
      AtomicIntegerArray completions = new AtomicIntegerArray(REQUESTS);
      Map<String, Integer> answeredBy = new ConcurrentHashMap<>();
      List<String> dropped = new CopyOnWriteArrayList<>();
      CountDownLatch done = new CountDownLatch(REQUESTS);
      Semaphore inFlight = new Semaphore(IN_FLIGHT);
      AtomicInteger peakInFlight = new AtomicInteger();
      Instrumentation countingDrops =
          bus ->
              new Instrumentation.Observer() {
                @Override
                public void replyDropped(String replyTopic, Message reply) {
                  dropped.add(reply.payloadAsString());
                }
              };
      String survivorPid;
      long killedNanos;
      try (Polybus requester = Polybus.connect(uri, countingDrops)) {
        List<Thread> senders = new ArrayList<>();
        for (int s = 0; s < SENDERS; s++) {
          int first = s;
          Thread t =
              new Thread(
                  () -> {
                    for (int i = first; i < REQUESTS; i += SENDERS) {
                      int index = i;
                      try {
                        inFlight.acquire();
                        peakInFlight.accumulateAndGet(
                            IN_FLIGHT - inFlight.availablePermits(), Math::max);
                        long sent = System.nanoTime();
                        CompletableFuture<Message> f =
                            requester.request(topic, Message.of(payload(run, index)), TIMEOUT);
                        f.whenComplete(
                            (m, e) -> {
                              String reply = m == null ? null : m.payloadAsString();
                              outcomes.set(index, new Outcome(sent, System.nanoTime(), reply, e));
                              if (reply != null) {
                                Matcher r = REPLY.matcher(reply);
                                if (r.matches()) {
                                  answeredBy.merge(r.group(3), 1, Integer::sum);
                                }
                              }
                              completions.incrementAndGet(index);
                              inFlight.release();
                              done.countDown();
                            });
                        Thread.sleep(PACE_MILLIS);
                      } catch (InterruptedException e) {
                        return;
                      } catch (RuntimeException e) {
                        long now = System.nanoTime();
                        outcomes.set(index, new Outcome(now, now, null, e));
                        completions.incrementAndGet(index);
                        inFlight.release();
                        done.countDown();
                      }
                    }
                  },
                  "sender-" + s);
          senders.add(t);
          t.start();
        }

        // Kill a responder mid-stream, once both have answered, while it works on some requests.
        await(
            Duration.ofSeconds(30),
            () ->
                REQUESTS - done.getCount() >= KILL_AFTER
                    && answeredBy.containsKey(pidA)
                    && answeredBy.containsKey(pidB)
                    && unfinished(started(logA), outcomes).size() >= 2,
            () ->
                "both responders to answer, "
                    + KILL_AFTER
                    + " requests to complete and responder a to hold two; answered "
                    + answeredBy
                    + ", completed "
                    + (REQUESTS - done.getCount())
                    + logs.get());
        assertThat(done.getCount())
            .as("requests still to complete when the responder is killed (not after the stream)")
            .isGreaterThan(REQUESTS / 4);
        a.destroyForcibly().waitFor(); // SIGKILL
        killedNanos = System.nanoTime();
        survivorPid = pidB;

        for (Thread t : senders) {
          t.join(TimeUnit.SECONDS.toMillis(60));
        }
        assertThat(done.await(TIMEOUT.toMillis() * 3, TimeUnit.MILLISECONDS))
            .as(
                () ->
                    "every request complete within 3 timeouts of the last send; "
                        + done.getCount()
                        + " are not"
                        + logs.get())
            .isTrue();
      }

      // Started by the killed responder and not answered by it: handed over to the survivor, or
      // timed out.
      List<Integer> orphaned = new ArrayList<>();
      for (int i : started(logA)) {
        Outcome o = outcomes.get(i);
        if (o.reply() == null || !o.reply().endsWith(" by " + pidA)) {
          orphaned.add(i);
        }
      }
      int timedOut = 0;
      int sentAfterKill = 0;
      int answeredAfterKill = 0;
      for (int i = 0; i < REQUESTS; i++) {
        Outcome o = outcomes.get(i);
        String q = payload(run, i);
        assertThat(completions.get(i)).as("completions of request %s", q).isEqualTo(1);
        if (o.failure() != null) {
          assertThat(o.failure())
              .as("how request %s failed (only a timeout may end a request)", q)
              .isInstanceOf(PolybusTimeoutException.class);
          assertThat(Duration.ofNanos(o.doneNanos() - o.sentNanos()))
              .as("time until request %s timed out", q)
              .isGreaterThanOrEqualTo(TIMEOUT);
          timedOut++;
        } else {
          assertThat(o.reply())
              .as("the reply to request %s (from %s or %s)", q, pidA, pidB)
              .isIn("re:" + q + " by " + pidA, "re:" + q + " by " + pidB);
        }
        if (o.sentNanos() > killedNanos) {
          sentAfterKill++;
          if (o.failure() == null) {
            answeredAfterKill++;
            assertThat(o.reply())
                .as("the reply to request %s, sent after %s was killed", q, pidA)
                .endsWith(" by " + survivorPid);
          }
        }
      }
      assertThat(answeredBy.get(pidA)).as("requests the killed responder answered").isPositive();
      assertThat(answeredBy.get(survivorPid)).as("requests the survivor answered").isPositive();
      assertThat(orphaned)
          .as("requests the killed responder had started and never answered")
          .isNotEmpty();
      assertThat(sentAfterKill).as("requests sent after the kill").isGreaterThan(REQUESTS / 4);
      assertThat(answeredAfterKill)
          .as("requests sent after the kill that the survivor answered, of %d", sentAfterKill)
          .isGreaterThanOrEqualTo(sentAfterKill * 9 / 10);
      // A dropped reply is a second answer to a request that had its outcome already: well formed,
      // for a request of this run, from one of the two responders.
      for (String d : dropped) {
        Matcher r = REPLY.matcher(d);
        assertThat(r.matches()).as("a dropped reply's form: %s", d).isTrue();
        assertThat(r.group(1)).as("the request a dropped reply answers").startsWith("q-" + run);
        assertThat(r.group(3)).as("who sent the dropped reply %s", d).isIn(pidA, pidB);
      }
      System.out.printf(
          "%s: %d requests, at most %d in flight; answered by the killed responder %d, by the survivor %d; %d in the"
              + " killed one's hands (%d of them answered by the survivor); timed out %d; %d sent"
              + " after the kill, %d of them answered; %d second replies dropped%n",
          uriTemplate,
          REQUESTS,
          peakInFlight.get(),
          answeredBy.get(pidA),
          answeredBy.get(survivorPid),
          orphaned.size(),
          orphaned.stream().filter(i -> outcomes.get(i).reply() != null).count(),
          timedOut,
          sentAfterKill,
          answeredAfterKill,
          dropped.size());

      b.getOutputStream().close();
      assertThat(b.waitFor(30, TimeUnit.SECONDS))
          .as(() -> "the survivor to close when asked" + logs.get())
          .isTrue();
      assertThat(b.exitValue()).as(() -> "the survivor's exit code" + logs.get()).isZero();
    } finally {
      a.destroyForcibly().waitFor();
      b.destroyForcibly().waitFor();
      if (uri.startsWith("rabbitmq:")) {
        deleteRabbitMqTopic(uri, topic);
      }
    }
  }

  /** The requests a responder's log says it started, by index. */
  private static List<Integer> started(Path log) {
    List<Integer> started = new ArrayList<>();
    for (String line : text(log).split("\n")) {
      if (line.startsWith("start q-")) {
        started.add(Integer.parseInt(line.substring(line.lastIndexOf('-') + 1).trim()));
      }
    }
    return started;
  }

  /** Of {@code requests}, those without an outcome yet. */
  private static List<Integer> unfinished(
      List<Integer> requests, AtomicReferenceArray<Outcome> outcomes) {
    return requests.stream().filter(i -> outcomes.get(i) == null).toList();
  }

  private static String payload(String run, int index) {
    return "q-" + run + "-" + index;
  }

  private static Process responder(String uri, String topic, Path ready, Path log)
      throws IOException {
    return new ProcessBuilder(
            ProcessHandle.current().info().command().orElse("java"),
            "-Xmx256m",
            "-cp",
            System.getProperty("java.class.path"),
            ResponderProcess.class.getName(),
            uri,
            topic,
            GROUP,
            ready.toString())
        .redirectErrorStream(true)
        // A file, not a pipe: what a child wrote before SIGKILL is all there.
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .start();
  }

  /**
   * The broker is shared and long-lived: delete the group's queue, the topic's exchange, and their
   * dead-letter counterparts should any request have been dead-lettered (deleting what does not
   * exist succeeds). The requester deletes its own reply topic when it closes.
   */
  private static void deleteRabbitMqTopic(String uri, String topic) throws Exception {
    ConnectionFactory cf = new ConnectionFactory();
    cf.setUri(uri.replaceFirst("^rabbitmq:", "amqp:"));
    cf.setAutomaticRecoveryEnabled(false);
    String dlq = topic + "." + GROUP + ".dlq";
    try (Connection c = cf.newConnection("polybus-test-cleanup");
        Channel ch = c.createChannel()) {
      ch.queueDelete(topic + ":" + GROUP);
      ch.queueDelete(dlq + ":" + Polybus.DEAD_LETTER_GROUP);
      ch.exchangeDelete(topic);
      ch.exchangeDelete(dlq);
    }
  }

  private static void await(Duration limit, BooleanSupplier condition, Supplier<String> what)
      throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + limit + " waiting for " + what.get());
      }
      Thread.sleep(10);
    }
  }

  /** A responder's output without its line per request. */
  private static String output(Path log) {
    return text(log).lines().filter(l -> !l.startsWith("start q-")).collect(joining("\n"));
  }

  private static String text(Path f) {
    try {
      return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "(no output)";
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }
}
