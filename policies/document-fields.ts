/**
 * The policy document's field schemas, each with a message that says what was expected (`parse.ts`
 * appends what was found and the path).
 */
import { z } from 'zod';

/** Whole number at least `min`, with a message naming both. */
export const whole = (min: number) => {
  const message = `expected a whole number ≥ ${min}`;
  return z.number({ invalid_type_error: message, required_error: message }).int({ message }).min(min, { message });
};

/** Finite number in [min, max]. */
export const ranged = (min: number, max: number, what = 'a number') => {
  const message = `expected ${what} between ${min} and ${max}`;
  return z.number({ invalid_type_error: message, required_error: message }).min(min, { message }).max(max, { message });
};

export const text = (what = 'a non-empty string') =>
  z.string({ invalid_type_error: `expected ${what}`, required_error: `expected ${what}` }).min(1, { message: `expected ${what}` });

const TIER_MESSAGE = 'expected one of `autonomous`, `approval`, `blocked`';
export const tierSchema = z.enum(['autonomous', 'approval', 'blocked'], { errorMap: () => ({ message: TIER_MESSAGE }) });
const MODE_MESSAGE = 'expected one of `enforce`, `shadow`';
export const modeSchema = z.enum(['enforce', 'shadow'], { errorMap: () => ({ message: MODE_MESSAGE }) });
const EFFECT_MESSAGE = 'expected one of `read`, `write`, `destructive`';
export const effectSchema = z.enum(['read', 'write', 'destructive'], { errorMap: () => ({ message: EFFECT_MESSAGE }) });
