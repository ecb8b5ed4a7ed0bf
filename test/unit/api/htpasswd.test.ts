import { expect } from 'chai';
import { hashFormat, verifyPassword } from '../../../api/htpasswd.js';

// Made by `openssl passwd -apr1`, bcrypt (htpasswd -B writes $2y$) and htpasswd -s, password "do".
export const HASHES = {
  apr1: '$apr1$Hx7Kq2Lm$.EDNVGjP.mwAimsgO5ZZf1',
  bcrypt: '$2y$05$qtTmuatn/nv8UbVpXxr42OhsGQcsu/x7jsZoMGJC7YYAtALrRY5Oa',
  sha1: '{SHA}6tzZvSoJx1rvBJVOZ5nlAnjuEko=',
} as const;

describe('htpasswd hashes', () => {
  for (const [format, hash] of Object.entries(HASHES)) {
    it(`${format}: accepts the password, refuses others`, async () => {
      expect(hashFormat(hash)).to.equal(format);
      expect(await verifyPassword('do', hash)).to.equal(true);
      for (const wrong of ['', 'Do', 'do ', 'dodo']) expect(await verifyPassword(wrong, hash), wrong).to.equal(false);
    });
  }

  it('refuses everything against an unknown format', async () => {
    expect(hashFormat('do')).to.equal(undefined);
    expect(await verifyPassword('do', 'do')).to.equal(false);
    expect(await verifyPassword('do', '$1$abc$def')).to.equal(false);
  });
});
