/**
 * Chaos experiments: fault injectors, the scenario runner and the chaos suite (issue 4). Empty
 * until then. Sits on top of everything; nothing may depend on it.
 */
package io.tributary.chaos;
