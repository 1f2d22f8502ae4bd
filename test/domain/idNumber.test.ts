import { describe, expect, it } from 'vitest';
import { idCheckCharacter, idNumberProblem, isValidIdNumber, maskIdNumber, maskName, maskPhone } from '../../domain/idNumber.js';

describe('resident identity number (GB 11643)', () => {
  it('When the check character is computed, then it matches the standard examples', () => {
    // The first is the example printed in GB 11643-1999; the second was worked by hand:
    // Σ(digit × weight) = 196, 196 mod 11 = 9, and 9 maps to '3'.
    expect(idCheckCharacter('11010519491231002')).toBe('X');
    expect(idCheckCharacter('44052419800101001')).toBe('3');
  });

  it('When a number is well formed, then it is valid', () => {
    expect(isValidIdNumber('11010519491231002X')).toBe(true);
    expect(isValidIdNumber('440524198001010013')).toBe(true);
  });

  it('When the check digit is wrong, then the problem says so', () => {
    expect(idNumberProblem('110105194912310021')).toBe('checkDigit');
    expect(idNumberProblem('440524198001010014')).toBe('checkDigit');
  });

  it.each([
    ['11010519491231002x', 'format'], // a lower-case x is not the standard's character
    ['1101051949123100', 'format'],
    ['11010519491231002XX', 'format'],
    ['990105194912310028', 'region'],
    ['110105194902300025', 'birthDate'], // 30 February
    ['110105180001010025', 'birthDate'],
  ])('When the number is %s, then the problem is %s', (value, problem) => {
    expect(idNumberProblem(value)).toBe(problem);
  });

  it('When numbers are shown, then they are masked', () => {
    expect(maskIdNumber('11010519491231002X')).toBe('110***********002X');
    expect(maskName('张三丰')).toBe('张**');
    expect(maskPhone('13800138000')).toBe('138****8000');
  });
});
