/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot;

import io.polybus.AckMode;
import io.polybus.Codec;
import io.polybus.CodecException;
import io.polybus.ConfigurationException;
import io.polybus.Delivery;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.RetryPolicy;
import io.polybus.SubscribeOptions;
import io.polybus.TypedHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Type;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.beans.factory.config.ConfigurableBeanFactory;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.core.MethodIntrospector;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.util.ReflectionUtils;

/**
 * Finds {@link PolybusListener} methods on every bean and registers each with the {@link
 * PolybusListenerRegistry}. Placeholders in the attributes are resolved against the environment
 * before they are read.
 *
 * <p>Registered by the auto-configuration; one per context. Used by the container's thread only.
 */
public final class PolybusListenerAnnotationProcessor
    implements BeanPostProcessor, BeanFactoryAware {
  private final ObjectProvider<PolybusListenerRegistry> registry;
  private final ObjectProvider<PayloadMapper> mapper;
  private ConfigurableBeanFactory beanFactory;

  /**
   * A processor registering into the registry, decoding with the mapper (both looked up lazily).
   */
  public PolybusListenerAnnotationProcessor(
      ObjectProvider<PolybusListenerRegistry> registry, ObjectProvider<PayloadMapper> mapper) {
    this.registry = registry;
    this.mapper = mapper;
  }

  @Override
  public void setBeanFactory(BeanFactory beanFactory) {
    this.beanFactory = (ConfigurableBeanFactory) beanFactory;
  }

  @Override
  public Object postProcessAfterInitialization(Object bean, String beanName) {
    Class<?> type = AopUtils.getTargetClass(bean);
    Map<Method, Set<PolybusListener>> methods =
        MethodIntrospector.selectMethods(
            type,
            (MethodIntrospector.MetadataLookup<Set<PolybusListener>>)
                m -> {
                  Set<PolybusListener> a =
                      AnnotatedElementUtils.getMergedRepeatableAnnotations(
                          m, PolybusListener.class);
                  return a.isEmpty() ? null : a;
                });
    methods.forEach(
        (method, annotations) -> {
          for (PolybusListener a : annotations) {
            registry.getObject().register(endpoint(bean, method, a));
          }
        });
    return bean;
  }

  private PolybusListenerEndpoint<Object> endpoint(Object bean, Method method, PolybusListener a) {
    String where = method.getDeclaringClass().getName() + "." + method.getName();
    String topic = resolve(a.topic());
    String group = resolve(a.group());
    String id = resolve(a.id());
    if (id.isEmpty()) {
      if (topic.isEmpty() || group.isEmpty()) {
        throw new ConfigurationException(
            "@PolybusListener on " + where + " needs a topic and a group, or an id");
      }
      id = PolybusListenerEndpoint.defaultId(topic, group);
    }
    Method invocable = AopUtils.selectInvocableMethod(method, bean.getClass());
    ReflectionUtils.makeAccessible(invocable);
    Class<?>[] params = invocable.getParameterTypes();
    Type[] generic = invocable.getGenericParameterTypes();
    int payloadIndex = -1;
    int deliveryIndex = -1;
    for (int i = 0; i < params.length; i++) {
      if (params[i] == Delivery.class && deliveryIndex < 0) {
        deliveryIndex = i;
      } else if (payloadIndex < 0) {
        payloadIndex = i;
      } else {
        throw new ConfigurationException(
            "@PolybusListener method "
                + where
                + " must take the payload and optionally the Delivery, not "
                + params.length
                + " parameters");
      }
    }
    Codec<Object> codec = codec(payloadIndex < 0 ? Message.class : generic[payloadIndex]);
    int payloadAt = payloadIndex;
    int deliveryAt = deliveryIndex;
    int arity = params.length;
    TypedHandler<Object> handler =
        (value, delivery) -> {
          Object[] args = new Object[arity];
          if (payloadAt >= 0) {
            args[payloadAt] = value;
          }
          if (deliveryAt >= 0) {
            args[deliveryAt] = delivery;
          }
          try {
            invocable.invoke(bean, args);
          } catch (InvocationTargetException e) {
            // The handler's own exception, not the reflective wrapper, goes to the retry policy:
            // nonRetryable classes are matched against it.
            Throwable cause = e.getCause();
            if (cause instanceof Exception ex) {
              throw ex;
            }
            throw (Error) cause;
          }
        };
    return new PolybusListenerEndpoint<>(
        id, topic, group, codec, handler, options(a, where), bool(a.autoStartup(), true));
  }

  @SuppressWarnings("unchecked")
  private Codec<Object> codec(Type payloadType) {
    if (payloadType == Message.class) {
      return (Codec<Object>) (Codec<?>) RawCodecs.MESSAGE;
    }
    if (payloadType == byte[].class) {
      return (Codec<Object>) (Codec<?>) RawCodecs.BYTES;
    }
    return mapper.getObject().codec(payloadType);
  }

  private SubscribeOptions options(PolybusListener a, String where) {
    SubscribeOptions.Builder b = SubscribeOptions.builder();
    RetryPolicy.Builder r = RetryPolicy.builder();
    try {
      set(a.concurrency(), Integer::parseInt, b::concurrency);
      set(a.maxInFlight(), Integer::parseInt, b::maxInFlight);
      set(a.priority(), PolybusListenerAnnotationProcessor::strictBoolean, b::priority);
      set(a.ordering(), s -> Ordering.valueOf(s.toUpperCase(Locale.ROOT)), b::ordering);
      set(a.ackMode(), s -> AckMode.valueOf(s.toUpperCase(Locale.ROOT)), b::ackMode);
      set(a.deadLetterTopic(), s -> s, b::deadLetterTopic);
      set(a.startFrom(), ListenerValues::startFrom, b::startFrom);
      set(a.ackTimeout(), DurationStyle::detectAndParse, b::ackTimeout);
      set(a.retryMaxAttempts(), Integer::parseInt, r::maxAttempts);
      set(a.retryInitialBackoff(), DurationStyle::detectAndParse, r::initialBackoff);
      set(a.retryMultiplier(), Double::parseDouble, r::multiplier);
      set(a.retryMaxBackoff(), DurationStyle::detectAndParse, r::maxBackoff);
      set(a.retryJitter(), Double::parseDouble, r::jitter);
      if (a.nonRetryable().length > 0) {
        r.nonRetryable(a.nonRetryable());
      }
    } catch (IllegalArgumentException e) {
      throw new ConfigurationException("@PolybusListener on " + where + ": " + e.getMessage(), e);
    }
    return b.retryPolicy(r.build()).build();
  }

  private <V> void set(String raw, Function<String, V> parse, Consumer<V> target) {
    String v = resolve(raw);
    if (!v.isEmpty()) {
      target.accept(parse.apply(v));
    }
  }

  private static boolean strictBoolean(String v) {
    if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
      return Boolean.parseBoolean(v);
    }
    throw new IllegalArgumentException("priority must be true or false, was '" + v + "'");
  }

  private boolean bool(String raw, boolean otherwise) {
    String v = resolve(raw);
    return v.isEmpty() ? otherwise : Boolean.parseBoolean(v);
  }

  private String resolve(String value) {
    if (value.isEmpty() || beanFactory == null) {
      return value;
    }
    String r = beanFactory.resolveEmbeddedValue(value);
    return r == null ? "" : r.strip();
  }

  /** Codecs for handlers that take the message or its bytes as they are. */
  static final class RawCodecs {
    static final Codec<byte[]> BYTES =
        new Codec<>() {
          @Override
          public String contentType() {
            return "application/octet-stream";
          }

          @Override
          public String typeName() {
            return null;
          }

          @Override
          public byte[] encode(byte[] value) {
            return value;
          }

          @Override
          public byte[] decode(byte[] payload, String contentType, String typeName) {
            return payload;
          }
        };

    static final Codec<Message> MESSAGE =
        new Codec<>() {
          @Override
          public String contentType() {
            return "application/octet-stream";
          }

          @Override
          public String typeName() {
            return null;
          }

          @Override
          public byte[] encode(Message value) {
            throw new CodecException("a Message is published as it is, not encoded");
          }

          @Override
          public Message decode(byte[] payload, String contentType, String typeName) {
            throw new CodecException("decode(Message) is used for a Message parameter");
          }

          @Override
          public Message decode(Message message) {
            return message;
          }
        };

    private RawCodecs() {}
  }
}
