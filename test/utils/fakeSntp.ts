// The fake SNTP servers live in src/sim (cairn sim starts them); the time check tests import them from here.
export { FakeSntpServer } from "../../src/sim/sntp.js";
