"""One emulated AWS for ``make local``, the end-to-end and fault tests, and the capacity walk.

Modules:

* :mod:`~offline.emulator.recorded`: what the recorded program declares (tables, queues, functions, rules,
  targets, state machines, topics, subscriptions, routes), with physical names;
* :mod:`~offline.emulator.moto_seams`: every moto internal bent or read, each with a canary test;
* :mod:`~offline.emulator.lambdas`: Lambda (handlers in-process, execution environments, reserved
  concurrency, fault hooks on every AWS call a handler makes);
* :mod:`~offline.emulator.router`: the deliveries AWS makes by itself, one ``Trigger`` class per kind
  (EventBridge rules, Lambda async invocations, SQS event source mappings, SNS subscriptions, S3 events);
* :mod:`~offline.emulator.api`: the HTTP API (routes, throttling, JWT authorizer, payload 2.0 events);
* :mod:`~offline.emulator.semantics`: AWS's throttling, retry and redrive rules as pure functions of time
  (token bucket, reserved concurrency, Lambda's asynchronous retries, EventBridge's target retries, Step
  Functions Retriers, SQS redrive), which ``make burst`` applies too;
* :mod:`~offline.emulator.clock`: the virtual clock backoffs and visibility timeouts pass on;
* :mod:`~offline.emulator.world`: the running emulator (resources created in moto, readers).
"""
