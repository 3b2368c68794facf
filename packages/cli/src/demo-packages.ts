/**
 * What `zcopy demo` needs beyond the doctor's dependencies: optional peer dependencies of @zcopy/cli, so that
 * `npm i @zcopy/cli` for the doctor stays small. The demo's domUs get them too (demo/domains.ts).
 */
export const DEMO_PACKAGES = [
  '@zcopy/dma-buf',
  '@zcopy/drm-kms',
  '@zcopy/gntdev-dmabuf',
  '@zcopy/grant-table',
  '@zcopy/xenstore',
] as const;
