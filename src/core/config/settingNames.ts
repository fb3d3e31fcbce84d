// The app settings (environment variables) the router reads, by the name the code uses for each.

export type Env = Readonly<Record<string, string | undefined>>;

/** Names of every setting the code reads; the infra test checks Bicep against it. */
export const settingNames = {
  config: "ROUTER_CONFIG",
  clientKeys: "ROUTER_CLIENT_KEYS",
  allowAnonymous: "ROUTER_ALLOW_ANONYMOUS",
  state: "ROUTER_STATE",
  stateTable: "ROUTER_STATE_TABLE",
  stateRefresh: "ROUTER_STATE_REFRESH",
  frontDoorId: "ROUTER_FRONT_DOOR_ID",
  bodyMemory: "ROUTER_BODY_MEMORY",
  cacheStore: "ROUTER_CACHE_STORE",
  cacheContainer: "ROUTER_CACHE_CONTAINER",
} as const;
