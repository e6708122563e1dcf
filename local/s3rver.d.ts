// s3rver ships no type declarations; local/s3.ts describes the parts it uses and narrows these.
declare module 's3rver' {
  const S3rver: unknown;
  export default S3rver;
}

declare module 's3rver/lib/models/account' {
  export const DUMMY_ACCOUNT: unknown;
}

declare module 's3rver/lib/models/error' {
  const S3Error: unknown;
  export default S3Error;
}
