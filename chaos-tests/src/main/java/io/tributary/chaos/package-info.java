/**
 * Chaos experiments: scenarios read from {@code config/chaos/} ({@link io.tributary.chaos.Scenario}),
 * fault injection by PID, the runner with its checkers, results.json and the chart
 * ({@link io.tributary.chaos.ChaosRunner}), and the chaos suite in the tests. Sits on top of every
 * other module; nothing may depend on it.
 */
package io.tributary.chaos;
