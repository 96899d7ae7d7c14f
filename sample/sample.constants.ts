export const NODE_ID = Symbol('NODE_ID');
export const REDIS_URL = Symbol('REDIS_URL');
