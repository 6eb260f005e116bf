// The pure domain core: money, programs, earn maths, calendar months and the monthly report.
export * from './money';
export * from './program';
export * from './earn';
export * from './time';
export * from './report';
export { ShopifyPayloadError, type PayloadIssue, type PayloadKind } from './shopify-payload';
export * from './shopify-order';
export * from './shopify-customer';
export * from './shopify-compliance';
export * from './reversal';
export * from './settlement';
