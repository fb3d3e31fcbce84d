// What Flex Consumption rejects that Azure's type definitions cannot say: siteConfig properties and
// app settings from its deprecations table. Checked by the Bicep checker and the infra tests.

/** siteConfig properties Flex Consumption rejects (its deprecations table; ARM error 51021). */
export const flexRejectedSiteConfig = [
  "ftpsState",
  "alwaysOn",
  "linuxFxVersion",
  "use32BitWorkerProcess",
  "javaVersion",
  "netFrameworkVersion",
  "powerShellVersion",
  "functionAppScaleLimit",
  "preWarmedInstanceCount",
];
/** App settings Flex Consumption rejects or replaces with functionAppConfig. */
export const flexRejectedAppSettings = [
  "FUNCTIONS_EXTENSION_VERSION",
  "FUNCTIONS_WORKER_RUNTIME",
  "FUNCTIONS_WORKER_RUNTIME_VERSION",
  "WEBSITE_NODE_DEFAULT_VERSION",
  "WEBSITE_RUN_FROM_PACKAGE",
  "WEBSITE_CONTENTSHARE",
  "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
  "SCM_DO_BUILD_DURING_DEPLOYMENT",
  "ENABLE_ORYX_BUILD",
  "WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT",
];

/** Bicep's own keys on a resource body, not properties of the resource type. */
