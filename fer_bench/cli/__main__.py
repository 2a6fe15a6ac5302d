from fer_bench.cli import main

main()
