// The package ships these types without pointing package.json at them.
declare module 'apache-md5' {
  export default function aprMd5(password: string, salt?: string): string;
}
