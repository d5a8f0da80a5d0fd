export * from "./discovery.js";
export * from "./enr.js";
