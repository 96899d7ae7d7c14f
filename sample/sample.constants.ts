/** This node's id (NODE_ID, or generated), injected where responses name the node. */
export const NODE_ID = Symbol('NODE_ID');
