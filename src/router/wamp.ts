/**
 * The one entry point to autobahn-js in this code base. Its types live in src/types/autobahn.d.ts
 * (autobahn ships none); the names below are short aliases for the parts the router link uses.
 */
import autobahnModule from "autobahn";

export const autobahn = autobahnModule;
export type WampSession = autobahnModule.Session;
export type WampConnection = autobahnModule.Connection;
export type WampRegistration = autobahnModule.Registration;
