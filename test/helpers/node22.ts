// The locator is shared with bench/ (bench/produce.ts runs @platformatic/kafka under Node 22).
export { node22Path } from '../../scripts/node22.ts';
